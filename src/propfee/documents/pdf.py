"""The PDF renderer (reportlab): draws `Content` on A4 with the embedded CJK font, a page
footer with the page number, one or many documents in one file (batch printing starts every
document on a new page)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    HRFlowable,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from propfee.documents.content import Block, Content
from propfee.documents.fonts import cjk_font

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 20 * mm
MARGIN_TOP = 18 * mm
MARGIN_BOTTOM = 18 * mm
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X


class _Styles:
    def __init__(self) -> None:
        font = cjk_font()
        base = {"fontName": font, "wordWrap": "CJK"}
        self.font = font
        self.letterhead = ParagraphStyle(
            "letterhead", fontSize=15, leading=20, alignment=TA_CENTER, **base
        )
        self.letterhead_small = ParagraphStyle(
            "letterhead_small", fontSize=9, leading=13, alignment=TA_CENTER, **base
        )
        self.title = ParagraphStyle(
            "title", fontSize=20, leading=28, alignment=TA_CENTER, spaceAfter=2 * mm, **base
        )
        self.number = ParagraphStyle(
            "number", fontSize=9, leading=12, alignment=TA_RIGHT, spaceAfter=3 * mm, **base
        )
        self.body = ParagraphStyle(
            "body", fontSize=10.5, leading=17, alignment=TA_LEFT, spaceAfter=1.5 * mm, **base
        )
        self.body_indent = ParagraphStyle("body_indent", parent=self.body, firstLineIndent=21)
        self.heading = ParagraphStyle(
            "heading", fontSize=11.5, leading=18, spaceBefore=2 * mm, spaceAfter=1 * mm, **base
        )
        self.small = ParagraphStyle(
            "small", fontSize=8.5, leading=12, textColor=colors.HexColor("#444444"), **base
        )
        self.sign = ParagraphStyle("sign", fontSize=10.5, leading=17, alignment=TA_RIGHT, **base)


class _Footer(Flowable):
    """Sets the footer text of the page it is drawn on and tells `drawn` that page's number
    (no size, draws nothing): it opens every document, so that is where the document starts."""

    def __init__(self, text: str, drawn: Callable[[int], None]) -> None:
        super().__init__()
        self.text = text
        self.drawn = drawn
        self.width = self.height = 0

    def draw(self) -> None:
        self.canv._propfee_footer = self.text  # type: ignore[attr-defined]
        self.drawn(self.canv.getPageNumber())


def _page_end(canvas, doc) -> None:  # type: ignore[no-untyped-def]
    text = getattr(canvas, "_propfee_footer", "")
    if doc._propfee_on_page is not None:
        doc._propfee_on_page(canvas.getPageNumber())
    canvas.saveState()
    canvas.setFont(doc._propfee_font, 8)
    canvas.setFillColor(colors.HexColor("#666666"))
    canvas.drawString(MARGIN_X, MARGIN_BOTTOM - 9 * mm, text)
    canvas.drawRightString(
        PAGE_WIDTH - MARGIN_X, MARGIN_BOTTOM - 9 * mm, f"第 {canvas.getPageNumber()} 页"
    )
    canvas.restoreState()


def _table(block: Block, styles: _Styles) -> Table:
    widths = [TEXT_WIDTH * w for w in block.widths] if block.widths else None
    data = [list(row) for row in block.rows]
    table = Table(data, colWidths=widths, repeatRows=block.header_rows, hAlign="CENTER")
    commands: list[tuple] = [
        ("FONT", (0, 0), (-1, -1), styles.font, 9),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#888888")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    if block.header_rows:
        commands += [
            ("BACKGROUND", (0, 0), (-1, block.header_rows - 1), colors.HexColor("#eeeeee")),
            ("ALIGN", (0, 0), (-1, block.header_rows - 1), "CENTER"),
        ]
    for column, letter in enumerate(block.align):
        align = {"L": "LEFT", "C": "CENTER", "R": "RIGHT"}[letter]
        commands.append(("ALIGN", (column, block.header_rows), (column, -1), align))
    if block.total_row:
        commands.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f5f5f5")))
    table.setStyle(TableStyle(commands))
    return table


#: The printed size of the company seal (a round 公章 is about 40 mm across).
SEAL_SIZE = 38 * mm


class _Seal(Flowable):
    """The company seal stamped over the signature lines that follow, as a seal is on paper:
    it takes no height of its own, so a one-page notice stays one page."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.width = self.height = 0

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self._avail_width = avail_width
        return avail_width, 0

    def draw(self) -> None:
        self.canv.drawImage(
            self.path,
            self._avail_width - SEAL_SIZE - 4 * mm,
            -SEAL_SIZE + 6 * mm,
            width=SEAL_SIZE,
            height=SEAL_SIZE,
            mask="auto",
            preserveAspectRatio=True,
        )


def _seal(block: Block) -> Flowable | None:
    """The seal image; None when the configured file is not there (the letter is still signed
    by name)."""
    if not block.text or not Path(block.text).is_file():
        return None
    return _Seal(block.text)


def _flowables(content: Content, styles: _Styles, drawn: Callable[[int], None]) -> list[Flowable]:
    story: list[Flowable] = [_Footer(content.footer, drawn)]
    if content.letterhead:
        story.append(Paragraph(escape(content.letterhead[0]), styles.letterhead))
        story.extend(
            Paragraph(escape(line), styles.letterhead_small) for line in content.letterhead[1:]
        )
        story.append(
            HRFlowable(
                width="100%", thickness=0.8, color=colors.black, spaceBefore=2, spaceAfter=4 * mm
            )
        )
    story.append(Paragraph(escape(content.title), styles.title))
    if content.number:
        story.append(Paragraph(escape(f"编号：{content.number}"), styles.number))
    for block in content.blocks:
        if block.kind == "table":
            story.append(_table(block, styles))
            story.append(Spacer(1, 2 * mm))
        elif block.kind == "sign":
            story.append(Paragraph(escape(block.text), styles.sign))
        elif block.kind == "heading":
            story.append(Paragraph(escape(block.text), styles.heading))
        elif block.kind == "seal":
            image = _seal(block)
            if image is not None:
                story.append(image)
        elif block.kind == "small":
            story.append(Paragraph(escape(block.text), styles.small))
        else:
            style = styles.body_indent if block.indent else styles.body
            story.append(Paragraph(escape(block.text), style))
    return story


@dataclass(frozen=True)
class RenderedPdf:
    """A rendered PDF: its bytes, its page count and the page each document starts on."""

    data: bytes
    pages: int
    first_pages: tuple[int, ...]


def pdf_render(
    contents: Sequence[Content],
    *,
    title: str = "",
    on_page: Callable[[int], None] | None = None,
) -> RenderedPdf:
    """One PDF with every content, each starting on a new page. `on_page(n)` is called as
    each page is finished (a progress bar)."""
    styles = _Styles()
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=title or (contents[0].title if contents else ""),
        author=contents[0].letterhead[0] if contents and contents[0].letterhead else "",
        creator="propfee",
        # The canvas starts in the CJK font: no unembedded Helvetica in the file.
        initialFontName=styles.font,
    )
    doc._propfee_font = styles.font  # type: ignore[attr-defined]
    doc._propfee_on_page = on_page  # type: ignore[attr-defined]
    frame = Frame(
        MARGIN_X,
        MARGIN_BOTTOM,
        TEXT_WIDTH,
        PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc.addPageTemplates([PageTemplate(id="a4", frames=[frame], onPageEnd=_page_end)])
    first_pages: list[int] = []
    story: list[Flowable] = []
    for index, content in enumerate(contents):
        if index:
            story.append(PageBreak())
        story.extend(_flowables(content, styles, first_pages.append))
    doc.build(story)
    return RenderedPdf(buffer.getvalue(), doc.page, tuple(first_pages))

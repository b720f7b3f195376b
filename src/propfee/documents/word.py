"""The editable letters as Word files (DOCX, python-docx): the same `Content` as the PDF, so a
letter staff adjust before printing starts from exactly the words the system recorded."""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document as WordDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from propfee.documents.content import Content

#: The font Word shows the letter in (宋体 on a Chinese Windows; the viewer substitutes).
WORD_FONT = "宋体"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

_ALIGN = {
    "L": WD_ALIGN_PARAGRAPH.LEFT,
    "C": WD_ALIGN_PARAGRAPH.CENTER,
    "R": WD_ALIGN_PARAGRAPH.RIGHT,
}


def _paragraph(doc, text: str, *, size: float = 10.5, align=None, indent: bool = False):  # type: ignore[no-untyped-def]
    paragraph = doc.add_paragraph()
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    return paragraph


def docx_render(content: Content) -> bytes:
    """The content as a DOCX file."""
    doc = WordDocument()
    normal = doc.styles["Normal"]
    normal.font.name = WORD_FONT
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), WORD_FONT)
    normal.font.size = Pt(10.5)
    if content.letterhead:
        _paragraph(doc, content.letterhead[0], size=15, align=WD_ALIGN_PARAGRAPH.CENTER)
        for line in content.letterhead[1:]:
            _paragraph(doc, line, size=9, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(doc, content.title, size=20, align=WD_ALIGN_PARAGRAPH.CENTER)
    if content.number:
        _paragraph(doc, f"编号：{content.number}", size=9, align=WD_ALIGN_PARAGRAPH.RIGHT)
    for block in content.blocks:
        if block.kind == "table":
            columns = len(block.rows[0]) if block.rows else 0
            table = doc.add_table(rows=0, cols=columns)
            table.style = "Table Grid"
            table.alignment = WD_TABLE_ALIGNMENT.CENTER
            for index, row in enumerate(block.rows):
                cells = table.add_row().cells
                for column, value in enumerate(row):
                    cells[column].text = value
                    paragraph = cells[column].paragraphs[0]
                    if index >= block.header_rows and column < len(block.align):
                        paragraph.alignment = _ALIGN[block.align[column]]
                    for run in paragraph.runs:
                        run.font.size = Pt(9)
        elif block.kind == "seal":
            if block.text and Path(block.text).is_file():
                paragraph = doc.add_paragraph()
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                paragraph.add_run().add_picture(block.text, width=Mm(38))
        elif block.kind == "sign":
            _paragraph(doc, block.text, align=WD_ALIGN_PARAGRAPH.RIGHT)
        elif block.kind == "small":
            _paragraph(doc, block.text, size=8.5)
        else:
            _paragraph(doc, block.text, indent=block.indent)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()

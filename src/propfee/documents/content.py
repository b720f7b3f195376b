"""What a document says (文书内容), apart from how it is drawn: a title, a letterhead and a list
of blocks (paragraphs, tables, signatures). The PDF and DOCX renderers draw the same content, the
plain text of it is what the document record keeps as its exact words, and it is stored as JSON
so the editable DOCX of a letter is the same letter."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

BlockKind = Literal["para", "table", "sign", "small", "heading", "seal"]


@dataclass(frozen=True)
class Block:
    """One block of a document. `table`: `rows` with `header_rows` header rows, `widths` as
    fractions of the text width and `align` one letter per column (L, C, R); the last row is
    bold when `total_row`."""

    kind: BlockKind
    text: str = ""
    rows: tuple[tuple[str, ...], ...] = ()
    widths: tuple[float, ...] = ()
    align: str = ""
    header_rows: int = 1
    total_row: bool = False
    indent: bool = False


@dataclass(frozen=True)
class Content:
    """A whole document: letterhead lines (the first one large), title, number, blocks, and
    the footer printed with the page number on every page."""

    title: str
    letterhead: tuple[str, ...]
    number: str
    blocks: tuple[Block, ...]
    footer: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def plain_text(self) -> str:
        """The document's words, one line per paragraph or table row (cells tab-separated)."""
        lines = [*self.letterhead, self.title]
        if self.number:
            lines.append(f"编号：{self.number}")
        for block in self.blocks:
            if block.kind == "table":
                lines.extend("\t".join(row) for row in block.rows)
            elif block.kind == "seal":
                continue  # an image, no words
            else:
                lines.append(block.text)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Content:
        blocks = tuple(
            Block(
                **{
                    **b,
                    "rows": tuple(tuple(r) for r in b.get("rows", ())),
                    "widths": tuple(b.get("widths", ())),
                }
            )
            for b in data["blocks"]
        )
        return cls(
            title=data["title"],
            letterhead=tuple(data["letterhead"]),
            number=data["number"],
            blocks=blocks,
            footer=data.get("footer", ""),
            meta=dict(data.get("meta", {})),
        )


def para(text: str, *, indent: bool = True) -> Block:
    return Block("para", text=text, indent=indent)


def heading(text: str) -> Block:
    return Block("heading", text=text)


def small(text: str) -> Block:
    return Block("small", text=text)


def sign(text: str) -> Block:
    """A right-aligned line of the signature (落款)."""
    return Block("sign", text=text)


def seal(image_path: str) -> Block:
    """The company seal (公章) image, right-aligned above the signature; `text` is its path."""
    return Block("seal", text=image_path)


def table(
    rows: list[tuple[str, ...]],
    *,
    widths: tuple[float, ...],
    align: str,
    total_row: bool = False,
    header_rows: int = 1,
) -> Block:
    return Block(
        "table",
        rows=tuple(rows),
        widths=widths,
        align=align,
        total_row=total_row,
        header_rows=header_rows,
    )

"""Reading a PDF back in tests: its text (pypdf), its fonts, and how much of a page is inked
when rendered to a bitmap (pdfium)."""

from __future__ import annotations

import io
import re

import pypdf
import pypdfium2 as pdfium


def pdf_text(data: bytes) -> str:
    """All the text, with whitespace removed (wrapped lines split words where they break)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def page_texts(data: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return [re.sub(r"\s+", "", page.extract_text()) for page in reader.pages]


def page_count(data: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(data)).pages)


def embedded_fonts(data: bytes) -> dict[str, bool]:
    """BaseFont → whether its TrueType program is embedded (FontFile2), over every page."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    fonts: dict[str, bool] = {}
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descriptor = font.get("/FontDescriptor")
            embedded = descriptor is not None and "/FontFile2" in descriptor.get_object()
            fonts[str(font["/BaseFont"])] = embedded
    return fonts


def inked_pixels(data: bytes, page: int = 0) -> int:
    """Pixels darker than light grey on `page` rendered at 72 dpi."""
    document = pdfium.PdfDocument(data)
    image = document[page].render(scale=1).to_pil().convert("L")
    return sum(1 for value in image.get_flattened_data() if value < 200)


def png_of(data: bytes, page: int = 0, scale: float = 1.5) -> bytes:
    document = pdfium.PdfDocument(data)
    out = io.BytesIO()
    document[page].render(scale=scale).to_pil().save(out, format="PNG")
    return out.getvalue()

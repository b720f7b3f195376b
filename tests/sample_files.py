"""Real small files for upload tests (a PDF drawn by reportlab, a PNG and a JPEG drawn by
Pillow, an XLSX written by openpyxl) and hostile ones: a script-bearing HTML page, an SVG with
script, a Windows program, and an XLSX "zip bomb" whose directory declares a huge sheet."""

from __future__ import annotations

import io
import struct
import zipfile

from openpyxl import Workbook
from PIL import Image
from reportlab.pdfgen import canvas

SCRIPT_HTML = (
    b"<!DOCTYPE html><html><body><h1>contract</h1>"
    b"<script>window.__pwned = true; alert(document.cookie)</script></body></html>"
)
SCRIPT_SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="window.__pwned=1">'
    b"<script>window.__pwned = true; alert(1)</script></svg>"
)
WINDOWS_EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 44
    + struct.pack("<I", 64)
    + b"PE\x00\x00\x4c\x01"
    + b"\x00" * 200
)
#: What a hostile upload can be, with the word the refusal uses for it.
HOSTILE = {"html": (SCRIPT_HTML, "HTML"), "svg": (SCRIPT_SVG, "SVG"), "exe": (WINDOWS_EXE, "EXE")}


def pdf_bytes(text: str = "contract") -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, text)
    page.save()
    return out.getvalue()


def _image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def png_bytes() -> bytes:
    return _image("PNG")


def jpeg_bytes() -> bytes:
    return _image("JPEG")


def xlsx_bytes(*rows: list) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_rewritten(content: bytes, part: str, data: bytes) -> bytes:
    """`content` (an XLSX) with `part` replaced by `data`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = data if info.filename == part else source.read(info.filename)
            target.writestr(info.filename, body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def xlsx_declaring(content: bytes, part: str, declared_size: int) -> bytes:
    """`content` (an XLSX) whose zip directory declares `part` `declared_size` bytes long
    unpacked: the shape of a zip bomb (a tiny file that claims to expand hugely). Only the
    size fields change; nothing that reads the directory alone can tell it from a real one."""
    data = bytearray(content)
    name = part.encode()
    # Central directory entries: signature PK\x01\x02, uncompressed size at offset 24.
    start = 0
    while (at := data.find(b"PK\x01\x02", start)) != -1:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + name_length]) == name:
            struct.pack_into("<I", data, at + 24, declared_size)
        start = at + 4
    # Local headers: signature PK\x03\x04, uncompressed size at offset 22.
    start = 0
    while (at := data.find(b"PK\x03\x04", start)) != -1:
        name_length = struct.unpack_from("<H", data, at + 26)[0]
        if bytes(data[at + 30 : at + 30 + name_length]) == name:
            struct.pack_into("<I", data, at + 22, declared_size)
        start = at + 4
    return bytes(data)

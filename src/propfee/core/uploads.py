"""Uploaded files (上传文件): which files each kind of upload accepts, judged by their content
with `puremagic` and their leading bytes (never by the name or the type the browser declares),
how big each may be, and the checks an XLSX import passes before it is opened. Every upload
path (forms, services, the import command) asks the one rule: `upload_check(file, kind=…)`.

What is stored is served by the type found here again from the stored bytes
(`stored_file_type`), never by what the uploader said it was."""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath
from typing import IO, Any
from xml.etree import ElementTree

import puremagic
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MB = 1024 * 1024
#: Enough of a file to recognise it (puremagic looks at the start; a CSV header fits).
HEAD_BYTES = 8192


class UploadKind(StrEnum):
    """What an upload is for; each kind has its allowed types and size cap."""

    CONTRACT = "contract"  # 合同扫描件
    EVIDENCE = "evidence"  # 送达凭证
    ATTACHMENT = "attachment"  # 催收记录附件
    IMPORT = "import"  # 数据导入文件


#: Defaults of `PROPFEE_UPLOAD_MAX_BYTES` (settings may override any kind).
DEFAULT_MAX_BYTES = {
    UploadKind.CONTRACT: 10 * MB,
    UploadKind.EVIDENCE: 20 * MB,
    UploadKind.ATTACHMENT: 20 * MB,
    UploadKind.IMPORT: 20 * MB,
}
#: Defaults of the import caps (`PROPFEE_IMPORT_MAX_ROWS`, `…_MAX_CELLS`, `…_MAX_UNPACKED_BYTES`).
DEFAULT_IMPORT_MAX_ROWS = 200_000
DEFAULT_IMPORT_MAX_CELLS = 5_000_000
DEFAULT_IMPORT_MAX_UNPACKED_BYTES = 256 * MB

KIND_LABELS = {
    UploadKind.CONTRACT: gettext_lazy("合同扫描件"),
    UploadKind.EVIDENCE: gettext_lazy("送达凭证"),
    UploadKind.ATTACHMENT: gettext_lazy("附件"),
    UploadKind.IMPORT: gettext_lazy("导入文件"),
}


class UploadRefused(ValidationError):
    """A file that may not be uploaded here; the message says why, for the user."""


@dataclass(frozen=True)
class FileType:
    """A type of file propfee accepts: how it is recognised (its leading bytes AND a puremagic
    match), how it is named to users, and how it is stored and served."""

    key: str
    label: str
    content_type: str
    extension: str
    #: May be shown in the browser (PDF and images), always with nosniff and a sandbox.
    inline: bool
    lead: Callable[[bytes], bool]
    #: puremagic extensions or MIME types that name this type.
    magic: frozenset[str]


def _starts(*prefixes: bytes) -> Callable[[bytes], bool]:
    return lambda head: head.startswith(prefixes)


PDF = FileType(
    "pdf", "PDF", "application/pdf", ".pdf", True, _starts(b"%PDF-"), frozenset({".pdf"})
)
JPEG = FileType(
    "jpeg",
    "JPG",
    "image/jpeg",
    ".jpg",
    True,
    _starts(b"\xff\xd8\xff"),
    frozenset({".jpg", ".jpeg", ".jfif", ".jpe", "image/jpeg"}),
)
PNG = FileType(
    "png", "PNG", "image/png", ".png", True, _starts(b"\x89PNG\r\n\x1a\n"), frozenset({".png"})
)
MP3 = FileType(
    "mp3",
    "MP3",
    "audio/mpeg",
    ".mp3",
    False,
    lambda head: head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] >= 0xE0),
    frozenset({".mp3", ".mpga", "audio/mpeg"}),
)
M4A = FileType(
    "m4a",
    "M4A",
    "audio/mp4",
    ".m4a",
    False,
    lambda head: head[4:8] == b"ftyp" and head[8:11] in (b"M4A", b"mp4", b"iso", b"3gp"),
    frozenset({".m4a", ".f4a", ".mp4", ".3gp", "audio/mp4"}),
)
WAV = FileType(
    "wav",
    "WAV",
    "audio/wav",
    ".wav",
    False,
    lambda head: head[:4] == b"RIFF" and head[8:12] == b"WAVE",
    frozenset({".wav"}),
)
AMR = FileType("amr", "AMR", "audio/amr", ".amr", False, _starts(b"#!AMR"), frozenset({".amr"}))
XLSX = FileType(
    "xlsx",
    "XLSX",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xlsx",
    False,
    _starts(b"PK\x03\x04"),
    frozenset({".xlsx"}),
)
#: CSV has no signature: it is text that no other type recognises (see `_csv_like`).
CSV = FileType("csv", "CSV", "text/csv", ".csv", False, lambda head: True, frozenset())

#: What each kind of upload accepts. Contact records also keep call recordings (通话录音);
#: audio is never shown inline.
ALLOWED: dict[UploadKind, tuple[FileType, ...]] = {
    UploadKind.CONTRACT: (PDF, JPEG, PNG),
    UploadKind.EVIDENCE: (PDF, JPEG, PNG),
    UploadKind.ATTACHMENT: (PDF, JPEG, PNG, MP3, M4A, WAV, AMR),
    UploadKind.IMPORT: (CSV, XLSX),
}
#: The types a stored file may be served as; anything else goes out as octet-stream.
SERVABLE = (PDF, JPEG, PNG, MP3, M4A, WAV, AMR)

_MARKUP = frozenset(
    {
        ".html",
        ".htm",
        ".xhtml",
        ".svg",
        ".xml",
        "text/html",
        "image/svg+xml",
        "application/xml",
        "text/xml",
        "application/xhtml+xml",
    }
)
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


# --- settings ------------------------------------------------------------------------------


def upload_max_bytes(kind: UploadKind) -> int:
    """The size cap of `kind` (setting `PROPFEE_UPLOAD_MAX_BYTES`, by kind)."""
    configured = getattr(settings, "PROPFEE_UPLOAD_MAX_BYTES", {}) or {}
    return int(configured.get(str(kind), DEFAULT_MAX_BYTES[kind]))


def import_max_rows() -> int:
    return int(getattr(settings, "PROPFEE_IMPORT_MAX_ROWS", DEFAULT_IMPORT_MAX_ROWS))


def import_max_cells() -> int:
    return int(getattr(settings, "PROPFEE_IMPORT_MAX_CELLS", DEFAULT_IMPORT_MAX_CELLS))


def import_max_unpacked_bytes() -> int:
    return int(
        getattr(settings, "PROPFEE_IMPORT_MAX_UNPACKED_BYTES", DEFAULT_IMPORT_MAX_UNPACKED_BYTES)
    )


def size_text(size: int) -> str:
    """12345678 → '11.8 MB'; smaller sizes in KB or bytes."""
    if size >= MB:
        return f"{size / MB:.1f} MB".replace(".0 MB", " MB")
    if size >= 1024:
        return f"{round(size / 1024)} KB"
    return f"{size} B"


# --- reading without loading --------------------------------------------------------------


def _stream(file: Any) -> IO[bytes]:
    """The binary stream of an UploadedFile, a Django File or a plain binary stream."""
    return file.file if isinstance(file, File) and file.file is not None else file


def upload_size(file: Any) -> int:
    """The size of `file` in bytes, without reading it."""
    size = getattr(file, "size", None)
    if isinstance(size, int):
        return size
    stream = _stream(file)
    position = stream.tell()
    stream.seek(0, io.SEEK_END)
    end = stream.tell()
    stream.seek(position)
    return end


def _head(file: Any) -> bytes:
    stream = _stream(file)
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    return head


def _magic_names(head: bytes) -> tuple[set[str], float]:
    """The extensions and MIME types puremagic finds in `head`, and its best confidence."""
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        return set(), 0.0
    names = {m.extension.lower() for m in matches if m.extension}
    names |= {m.mime_type.lower() for m in matches if m.mime_type}
    return names, max((m.confidence for m in matches), default=0.0)


def _recognised(head: bytes, names: set[str], types: Iterable[FileType]) -> FileType | None:
    for file_type in types:
        if file_type is not CSV and file_type.lead(head) and names & file_type.magic:
            return file_type
    return None


def _text(head: bytes) -> str | None:
    """`head` as text (UTF-8 or GB18030; a character cut at the end is fine), else None."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
    return None


def _csv_like(head: bytes, names: set[str], confidence: float) -> bool:
    """Text that no other type claims: no NUL or control bytes, not markup (HTML, SVG, XML),
    no strong signature. Whether it really decodes is for the CSV reader to say."""
    if b"\x00" in head or names & _MARKUP or confidence >= 0.5:
        return False
    if _recognised(head, names, (*SERVABLE, XLSX)) is not None:
        return False
    text = _text(head)
    if text is None:
        # Not text in a known encoding near the start: the reader reports the encoding.
        return not _TEXT_CONTROLS.search(head.decode("latin-1"))
    return not text.lstrip("\ufeff \t\r\n").startswith("<") and not _TEXT_CONTROLS.search(text)


def _actual_label(head: bytes, names: set[str]) -> str:
    """What a refused file really is, in words a property manager knows."""
    known = _recognised(head, names, SERVABLE)
    if known is not None:
        return known.label
    if head.startswith(b"MZ"):
        return _("EXE 可执行程序")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return _("旧版 Office 文件（.xls/.doc）")
    text = _text(head)
    lowered = (text or "").lstrip("\ufeff \t\r\n").lower()
    if ".svg" in names or "<svg" in lowered[:4096]:
        return "SVG"
    if names & {".html", ".htm", ".xhtml", "text/html"} or lowered.startswith("<"):
        return "HTML" if ".xml" not in names or "<html" in lowered else "XML"
    if head.startswith(b"PK\x03\x04"):
        return _("ZIP 压缩包或 Office 文档")
    if names:
        extension = sorted(n for n in names if n.startswith("."))
        if extension:
            return extension[0].lstrip(".").upper()
    if text is not None and b"\x00" not in head:
        return _("纯文本")
    return _("无法识别的格式")


def _spaced(label: str) -> str:
    """A space before a Latin word after Chinese text ('实际为 HTML', '实际为纯文本')."""
    return f" {label}" if label[:1].isascii() else label


def _or_list(labels: list[str]) -> str:
    """['PDF', 'JPG', 'PNG'] → 'PDF、JPG 或 PNG'."""
    if len(labels) == 1:
        return labels[0]
    return _("%(first)s 或 %(last)s") % {"first": "、".join(labels[:-1]), "last": labels[-1]}


# --- the rule -----------------------------------------------------------------------------


def upload_check(file: Any, *, kind: UploadKind, name: str = "") -> FileType:
    """The type of `file` if `kind` accepts it: not empty, within the kind's size cap, and by
    its content one of the kind's types (an XLSX also passes `xlsx_check`). Otherwise
    UploadRefused with a message for the user. Reads only the start of the file (and an
    XLSX's zip directory); the stream is left at its start."""
    name = name or PurePath(getattr(file, "name", "") or "").name
    shown = f"（{name}）" if name else ""
    size = upload_size(file)
    if size == 0:
        raise UploadRefused(_("上传的文件是空的%(name)s") % {"name": shown}, code="empty")
    cap = upload_max_bytes(kind)
    if size > cap:
        raise UploadRefused(
            _("文件过大%(name)s：%(size)s，%(what)s不能超过 %(cap)s。")
            % {
                "name": shown,
                "size": size_text(size),
                "what": KIND_LABELS[kind],
                "cap": size_text(cap),
            },
            code="too_big",
        )
    head = _head(file)
    names, confidence = _magic_names(head)
    allowed = ALLOWED[kind]
    file_type = _recognised(head, names, allowed)
    if file_type is None and CSV in allowed and _csv_like(head, names, confidence):
        file_type = CSV
    if file_type is None:
        raise UploadRefused(
            _("只能上传 %(allowed)s 文件，此文件%(name)s实际为%(actual)s。")
            % {
                "allowed": _or_list([t.label for t in allowed]),
                "name": shown,
                "actual": _spaced(_actual_label(head, names)),
            },
            code="type",
        )
    if file_type is XLSX:
        xlsx_check(_stream(file))
    return file_type


def stored_file_type(stream: IO[bytes]) -> FileType | None:
    """The servable type of a stored file by its bytes (None: serve it as octet-stream).
    The stream is left at its start."""
    head = _head(stream)
    names, _confidence = _magic_names(head)
    return _recognised(head, names, SERVABLE)


def upload_sha256(file: Any) -> str:
    """The SHA-256 of the whole file, read in chunks; the stream is left at its start."""
    digest = hashlib.sha256()
    stream = _stream(file)
    stream.seek(0)
    for chunk in iter(lambda: stream.read(64 * 1024), b""):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def upload_file(file: Any) -> File:
    """`file` as a Django File a FileField can save in chunks."""
    return file if isinstance(file, File) else File(file)


def stored_name(name: str, file_type: FileType, *, default: str) -> str:
    """The name a file is stored under: the uploader's stem (if any) with the extension of
    the type found in it, so a stored name never says `.html` or `.svg`."""
    stem = PurePath(name or "").stem.strip(". ")[:80] or default
    return f"{stem}{file_type.extension}"


# --- XLSX before it is opened ------------------------------------------------------------

_DIMENSION_RE = re.compile(
    rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?\""
)
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_DAMAGED = gettext_lazy("无法读取 XLSX 文件：文件已损坏或不是 Excel 文件")


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _first_sheet(archive: zipfile.ZipFile) -> str | None:
    """The zip path of the workbook's first sheet (the one imports read)."""
    try:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return None
    sheet = next((e for e in workbook.iter() if e.tag.endswith("}sheet")), None)
    rel_id = sheet.get(_REL_NS) if sheet is not None else None
    for rel in rels:
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


def xlsx_check(stream: IO[bytes]) -> None:
    """Refuse an XLSX before openpyxl expands it: a zip whose parts unpack to more than
    `PROPFEE_IMPORT_MAX_UNPACKED_BYTES` (a "zip bomb"), one that is no Excel workbook, or a
    first sheet whose declared size exceeds the import's row or cell cap. Reads only the
    zip directory, the workbook's two small index parts and the first bytes of the sheet."""
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
            unpacked = sum(info.file_size for info in infos)
            cap = import_max_unpacked_bytes()
            if unpacked > cap:
                raise UploadRefused(
                    _("XLSX 文件解压后有 %(size)s，超过导入上限 %(cap)s；请拆分后分批导入。")
                    % {"size": size_text(unpacked), "cap": size_text(cap)},
                    code="too_big",
                )
            names = {info.filename for info in infos}
            if "xl/workbook.xml" not in names:
                actual = "DOCX" if "word/document.xml" in names else _("ZIP 压缩包")
                raise UploadRefused(
                    _("只能上传 CSV 或 XLSX 文件，此文件实际为%(actual)s。")
                    % {"actual": _spaced(actual)},
                    code="type",
                )
            sheet = _first_sheet(archive)
            if sheet is not None and sheet in names:
                with archive.open(sheet) as part:
                    start = part.read(64 * 1024)
                _dimension_check(start)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        raise UploadRefused(str(_DAMAGED), code="damaged") from exc
    finally:
        stream.seek(0)


def _dimension_check(start: bytes) -> None:
    """The sheet's declared size (`<dimension ref="A1:F120"/>`) within the caps. Rows count from
    row 1 and columns from column A, as the reader fills the gaps before them."""
    match = _DIMENSION_RE.search(start)
    if match is None:
        return
    first_col, first_row, last_col, last_row = match.groups()
    rows = int(last_row or first_row)
    columns = _column_number((last_col or first_col).decode())
    if rows > import_max_rows():
        raise UploadRefused(import_rows_message(rows), code="too_many_rows")
    if rows * columns > import_max_cells():
        raise UploadRefused(import_cells_message(rows * columns), code="too_many_cells")


def import_rows_message(rows: int) -> str:
    return _("文件超过 %(cap)s 行（至少 %(rows)s 行）；请拆分后分批导入。") % {
        "cap": f"{import_max_rows():,}",
        "rows": f"{rows:,}",
    }


def import_cells_message(cells: int) -> str:
    return _("文件超过 %(cap)s 个单元格（至少 %(cells)s 个）；请拆分后分批导入。") % {
        "cap": f"{import_max_cells():,}",
        "cells": f"{cells:,}",
    }

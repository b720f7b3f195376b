"""Serving stored files (下载文件): one response for every download of an uploaded or rendered
file. The type sent is found from the stored bytes (`stored_file_type`), never from what the
uploader declared; only PDF and images may open in the browser, and then only with `nosniff`
and a sandboxing Content-Security-Policy, so no stored file can run script on our origin.
A file missing from storage answers 404 with a clear message."""

from __future__ import annotations

from pathlib import PurePath
from typing import IO
from urllib.parse import quote

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _

from propfee.core.uploads import stored_file_type

OCTET_STREAM = "application/octet-stream"
#: The policy of every served file: a sandboxed, opaque origin without script, forms or
#: plugins, whatever the file turns out to be.
FILE_CSP = "sandbox"


def file_missing(request: HttpRequest) -> HttpResponseBase:
    """404 with the reason: the record exists but its file is gone from storage."""
    return render(
        request,
        "web/file_missing.html",
        {"message": _("文件不存在或已被移除")},
        status=404,
    )


def _disposition(filename: str, *, inline: bool) -> str:
    """RFC 6266 / 5987: the Chinese name for browsers, a plain ASCII one for old clients."""
    fallback = filename if filename.isascii() else f"file{PurePath(filename).suffix}"
    fallback = "".join(c for c in fallback if " " <= c <= "~" and c not in '"\\') or "file"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def file_response(stream: IO[bytes], *, filename: str, inline: bool = False) -> FileResponse:
    """`stream` sent in chunks as the type its bytes show (else octet-stream). `inline` is a
    wish: granted for PDF and images only; everything else is an attachment."""
    file_type = stored_file_type(stream)
    inline = inline and file_type is not None and file_type.inline
    if file_type is not None and PurePath(filename).suffix.lower() != file_type.extension:
        filename = f"{PurePath(filename).stem or 'file'}{file_type.extension}"
    response = FileResponse(
        stream, content_type=file_type.content_type if file_type else OCTET_STREAM
    )
    response["Content-Disposition"] = _disposition(filename, inline=inline)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    return response


def stored_file_response(
    request: HttpRequest, file: FieldFile, *, filename: str = "", inline: bool = False
) -> HttpResponseBase:
    """The stored `file` as `file_response`, named `filename` (default: its stored name);
    404 with a message when it is missing from storage."""
    if not file:
        return file_missing(request)
    try:
        stream = file.storage.open(file.name, "rb")
    except (FileNotFoundError, IsADirectoryError):
        return file_missing(request)
    return file_response(stream, filename=filename or PurePath(file.name or "").name, inline=inline)

"""数据导入: choose a kind, download its template, upload a file, see the dry run (预览), then
confirm. The uploaded bytes wait between preview and confirm in a file under
MEDIA_ROOT/imports named by a random token kept in the session, and are deleted afterwards."""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from propfee.core import roles
from propfee.core.exporting import XLSX_CONTENT_TYPE, content_disposition
from propfee.core.importing import IMPORT_KINDS, ImportKind, import_run, import_template_xlsx
from propfee.core.roles import role_can
from propfee.web.access import StaffRequest
from propfee.web.forms import ImportUploadForm

SESSION_KEY = "propfee_import"
_TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
# Uploads left behind by a preview nobody confirmed are removed after a day.
STAGED_MAX_AGE_SECONDS = 24 * 3600


def _kinds_for(request: StaffRequest) -> list[ImportKind]:
    return [k for k in IMPORT_KINDS.values() if role_can(request.user, k.capability)]


def _kinds_or_403(request: StaffRequest) -> list[ImportKind]:
    kinds = _kinds_for(request)
    if not kinds:
        raise PermissionDenied
    return kinds


# --- the uploaded file between preview and confirm ---------------------------------------


def _staging_dir() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _staged_discard(request: StaffRequest) -> None:
    staged = request.session.pop(SESSION_KEY, None)
    if staged and _TOKEN_RE.match(staged.get("token", "")):
        (_staging_dir() / staged["token"]).unlink(missing_ok=True)


def _staged_save(request: StaffRequest, *, kind: str, upload: UploadedFile) -> Path:
    """Write the upload to its staging file chunk by chunk (never whole in memory)."""
    _staged_discard(request)
    folder = _staging_dir()
    cutoff = time.time() - STAGED_MAX_AGE_SECONDS
    for old in folder.iterdir():
        if old.is_file() and _TOKEN_RE.match(old.name) and old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_hex(16)
    path = folder / token
    with path.open("wb") as staged:
        for chunk in upload.chunks():
            staged.write(chunk)
    request.session[SESSION_KEY] = {"token": token, "kind": kind, "filename": upload.name}
    return path


def _staged_load(request: StaffRequest, token: str) -> tuple[dict, bytes] | None:
    staged = request.session.get(SESSION_KEY)
    if not staged or staged.get("token") != token or not _TOKEN_RE.match(token):
        return None
    path = _staging_dir() / token
    if not path.is_file():
        return None
    return staged, path.read_bytes()


# --- views -------------------------------------------------------------------------------


def _run(request: StaffRequest, *, kind: str, content: bytes, filename: str, dry_run: bool):
    try:
        return import_run(
            kind=kind, content=content, filename=filename, actor=request.user, dry_run=dry_run
        )
    except roles.PermissionDenied as exc:
        raise PermissionDenied from exc


@login_required
def import_upload(request: StaffRequest) -> HttpResponse:
    kinds = _kinds_or_403(request)
    choices = [(k.kind, k.label) for k in kinds]
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES, kinds=choices)
        if form.is_valid():
            kind = form.cleaned_data["kind"]
            upload = form.cleaned_data["file"]
            # Checked by the form (type by content, size cap) before anything is written.
            staged = _staged_save(request, kind=kind, upload=upload)
            try:
                report = _run(
                    request,
                    kind=kind,
                    content=staged.read_bytes(),
                    filename=upload.name,
                    dry_run=True,
                )
            except ValueError as exc:
                _staged_discard(request)
                form.add_error(None, str(exc))
            else:
                token = staged.name
                if not report.ok:
                    _staged_discard(request)
                    token = ""
                return render(
                    request,
                    "web/imports/import_preview.html",
                    {"report": report, "kind": IMPORT_KINDS[kind], "token": token},
                )
    else:
        form = ImportUploadForm(initial={"kind": request.GET.get("kind")}, kinds=choices)
    return render(request, "web/imports/import_upload.html", {"form": form, "kinds": kinds})


@require_POST
@login_required
def import_confirm(request: StaffRequest) -> HttpResponse:
    _kinds_or_403(request)
    staged = _staged_load(request, request.POST.get("token", ""))
    if staged is None:
        messages.warning(request, _("导入文件已失效，请重新上传。"))
        return redirect("web:import_upload")
    info, content = staged
    try:
        report = _run(
            request, kind=info["kind"], content=content, filename=info["filename"], dry_run=False
        )
    finally:
        _staged_discard(request)
    return render(
        request,
        "web/imports/import_result.html",
        {"report": report, "kind": IMPORT_KINDS[info["kind"]]},
    )


@require_POST
@login_required
def import_cancel(request: StaffRequest) -> HttpResponse:
    _staged_discard(request)
    messages.info(request, _("已取消导入，未写入任何数据。"))
    return redirect("web:import_upload")


@login_required
def import_template(request: StaffRequest, kind: str) -> HttpResponse:
    kinds = {k.kind: k for k in _kinds_or_403(request)}
    if kind not in kinds:
        raise Http404
    response = HttpResponse(import_template_xlsx(kind), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition(f"{kinds[kind].label}导入模板.xlsx")
    return response

"""One-time form submissions (防重复提交): a form that writes money or a document carries a
random token (`submission_token_new`, rendered as a hidden field), and its view runs the write
through `submission_once`, which claims the token in the same transaction as the write. The
token's unique key makes a second post of the same form — a double click, a retry, the back
button — write nothing and answer with the first post's outcome page.

A write the service refuses rolls the claim back with it, so the corrected form may be posted
again with the same token. Claims older than SUBMISSION_KEEP_DAYS are deleted as new ones come."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from propfee.core.models import SubmissionToken

#: The name of the hidden field that carries the token.
TOKEN_FIELD = "submission_token"
#: How long a claimed token is kept (a form reposted later than this is a new submission).
SUBMISSION_KEEP_DAYS = 30

_TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")


class SubmissionMissing(ValueError):
    """A post without a well-formed token (a page from before the token, or a tampered post):
    nothing is written; the form is shown again with a fresh token."""

    def __init__(self) -> None:
        super().__init__(_("页面已过期，请核对后重新提交。"))


@dataclass(frozen=True)
class Submitted:
    """What a submission did: the message to show and the page to go to. `repeated`: the form
    had been submitted before, nothing was written and `url` is the first submission's page."""

    message: str
    url: str
    repeated: bool = False


def submission_token_new() -> str:
    """A fresh token for a form."""
    return secrets.token_hex(16)


def submission_token_of(request: HttpRequest) -> str:
    """The token the form posted, or a fresh one for a form shown for the first time (a form
    shown again after a refusal keeps its token: the refused post wrote nothing)."""
    posted = request.POST.get(TOKEN_FIELD, "") if request.method == "POST" else ""
    return posted if _TOKEN_RE.match(posted) else submission_token_new()


def submission_once(
    request: HttpRequest, save: Callable[[], tuple[str, str]], *, fallback_url: str
) -> Submitted:
    """Run `save()` — the write, returning (message, url) — once per posted token, in one
    transaction with the claim of the token. A token claimed before (by the same user) writes
    nothing and returns the first submission's page with 该表单已提交 (`repeated`); a token
    claimed by someone else, or none, raises SubmissionMissing. `save`'s exceptions pass
    through, and roll the claim back."""
    key = request.POST.get(TOKEN_FIELD, "")
    user = request.user
    if not _TOKEN_RE.match(key) or not user.is_authenticated:
        raise SubmissionMissing
    with transaction.atomic():
        try:
            # A savepoint: a concurrent post of the same token waits on the unique key until
            # the first commits, then fails here and finds the first one's page below.
            with transaction.atomic():
                token = SubmissionToken.objects.create(key=key, user=user)
        except IntegrityError:
            first = SubmissionToken.objects.filter(key=key).first()
            if first is None or first.user_id != user.pk:
                raise SubmissionMissing from None
            return Submitted(
                _("该表单已提交，未重复登记。"), first.result_url or fallback_url, repeated=True
            )
        message, url = save()
        token.result_url = url[:500]
        token.save(update_fields=["result_url"])
        SubmissionToken.objects.filter(
            user=user, claimed_at__lt=timezone.now() - dt.timedelta(days=SUBMISSION_KEEP_DAYS)
        ).delete()
    return Submitted(message, url)


def submitted_response(request: HttpRequest, submitted: Submitted) -> HttpResponseBase:
    """The page a one-time form goes to: its outcome page with what was done, or for a
    repeated post the first post's page with 该表单已提交 (an htmx post is redirected too)."""
    if submitted.repeated:
        messages.info(request, submitted.message)
    else:
        messages.success(request, submitted.message)
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(submitted.url)
    return redirect(submitted.url)

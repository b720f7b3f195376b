"""The write page shared by the plan, hold, service-issue and legal pages: a form, then (for
the writes that need it) a confirmation stating what will happen, then the service call; a
refusal of the service is shown on the form. A page that writes money or a document is
submitted once (`once`: a one-time token, `propfee.core.submission`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBase
from django.shortcuts import redirect, render

from propfee.core import roles
from propfee.core.submission import SubmissionMissing, submission_once, submitted_response
from propfee.web.access import StaffRequest

TEMPLATE = "collection/matters/form_page.html"


def form_page(
    request: StaffRequest,
    form: forms.Form,
    *,
    title: str,
    submit_label: str,
    back_url: str,
    back_label: str,
    save: Callable[[], tuple[str, str]],
    statement: Callable[[], str] | None = None,
    summary: Callable[[], Sequence[tuple[str, Any]]] | None = None,
    intro: str = "",
    submit_class: str = "btn-primary",
    refusals: tuple[type[Exception], ...] = (ValueError,),
    once: bool = False,
) -> HttpResponseBase:
    """GET: the form. POST valid: the confirmation (when `statement` is given and the post is
    not confirmed yet), else `save()` → (message, url to go to). A service's refusal (one of
    `refusals`) becomes the form's error; a missing capability, a 403. `once`: the form carries
    a one-time token and a second post of it writes nothing and goes to the first's page."""
    confirming = False
    if request.method == "POST" and form.is_valid() and not request.POST.get("edit"):
        if statement is not None and request.POST.get("confirm") != "1":
            confirming = True
        else:
            try:
                if once:
                    return submitted_response(
                        request, submission_once(request, save, fallback_url=back_url)
                    )
                message, url = save()
            except roles.PermissionDenied as exc:
                raise PermissionDenied from exc
            except (*refusals, SubmissionMissing) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, message)
                return redirect(url)
    context = {
        "form": form,
        "title": title,
        "submit_label": submit_label,
        "submit_class": submit_class,
        "back_url": back_url,
        "back_label": back_label,
        "intro": intro,
        "once": once,
        "confirming": confirming,
        "statement": statement() if confirming and statement else "",
        "summary": summary() if confirming and summary else (),
    }
    return render(request, TEMPLATE, context)

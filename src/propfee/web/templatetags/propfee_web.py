"""Template filters of the staff UI: masked personal data, yuan amounts, audit changes, and the
one-time token of a form that writes money or a document."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from propfee.core.money import format_yuan
from propfee.core.personal_data import email_mask, id_number_mask, phone_mask
from propfee.core.submission import TOKEN_FIELD, submission_token_of
from propfee.web import audit_display
from propfee.web.prefetch import payer_of

register = template.Library()


@register.filter
def masked_phone(number: str) -> str:
    return phone_mask(number or "")


@register.filter
def masked_id_number(number: str) -> str:
    return id_number_mask(number or "")


@register.filter
def masked_email(email: str) -> str:
    return email_mask(email or "")


@register.filter
def yuan(fen: int | None) -> str:
    """Integer fen as yuan with thousands separators: 123450 → 1,234.50."""
    return "" if fen is None else format_yuan(int(fen))


@register.filter
def audit_changes(entry: Any) -> list[audit_display.Change]:
    return audit_display.audit_changes(entry)


@register.filter
def object_type_label(object_type: str) -> str:
    return audit_display.object_type_label(object_type)


@register.filter
def unit_payer(unit: Any) -> Any:
    """The current payer among the unit's prefetched occupancies."""
    return payer_of(unit)


@register.simple_tag
def page_numbers(page_obj: Any) -> list[Any]:
    """Page numbers around the current page, with `…` for the gaps."""
    return list(
        page_obj.paginator.get_elided_page_range(page_obj.number, on_each_side=2, on_ends=1)
    )


@register.simple_tag(takes_context=True)
def submission_token(context: Any) -> SafeString:
    """The hidden one-time token of a form that writes money or a document
    (`propfee.core.submission`): a fresh one, or the one the refused post carried."""
    return format_html(
        '<input type="hidden" name="{}" value="{}">',
        TOKEN_FIELD,
        submission_token_of(context["request"]),
    )

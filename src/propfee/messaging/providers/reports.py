"""What the SMS providers' delivery reports (状态报告) have in common: a shared-token check for
providers that do not sign their callbacks, a JSON-list body, and Beijing-time timestamps."""

from __future__ import annotations

import hmac
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest

from propfee.messaging.providers.base import CallbackRejected

# The providers write report times in Beijing time without an offset, whatever TIME_ZONE says.
BEIJING = ZoneInfo("Asia/Shanghai")
TOKEN_QUERY_PARAMETER = "token"
TOKEN_HEADER = "X-Propfee-Callback-Token"


def shared_token_verify(request: HttpRequest, expected: str) -> None:
    """Refuse the callback unless it carries `expected` in `?token=` or the token header.

    With no token configured every callback is refused: an unauthenticated report could
    mark a demand as delivered, which restarts the limitation clock."""
    if not expected:
        raise CallbackRejected("no callback token is configured for this provider")
    given = request.GET.get(TOKEN_QUERY_PARAMETER) or request.headers.get(TOKEN_HEADER) or ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise CallbackRejected("callback token missing or wrong")


def json_list_body(request: HttpRequest) -> list[dict[str, Any]]:
    """The request body as a JSON array of objects (one status report each)."""
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CallbackRejected("callback body is not JSON") from exc
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise CallbackRejected("callback body is not a list of reports")
    return data


def beijing_time(text: str | None) -> datetime:
    """'2026-11-27 09:30:05' (Beijing time) as an aware datetime."""
    try:
        return datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError as exc:
        raise CallbackRejected(f"report time {text!r} is not YYYY-MM-DD HH:MM:SS") from exc

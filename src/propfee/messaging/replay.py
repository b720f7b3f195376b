"""Replay protection for provider callbacks (回调防重放): each (timestamp, nonce) a provider
signs is accepted once, across every web process (a table, not a per-process cache)."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from propfee.messaging.models import CallbackNonce

NONCE_MAX_LENGTH = 128


def callback_nonce_claim(
    *, provider: str, timestamp: int, nonce: str, max_age_seconds: int
) -> bool:
    """Record the callback's (timestamp, nonce); False when it was seen before (a replay) or
    the nonce is missing or too long. Entries older than twice `max_age_seconds` are removed:
    a callback that old is refused as stale before it gets here."""
    if not nonce or len(nonce) > NONCE_MAX_LENGTH:
        return False
    now = timezone.now()
    CallbackNonce.objects.filter(
        provider=provider, seen_at__lt=now - dt.timedelta(seconds=2 * max_age_seconds)
    ).delete()
    try:
        with transaction.atomic():
            CallbackNonce.objects.create(
                provider=provider, timestamp=timestamp, nonce=nonce, seen_at=now
            )
    except IntegrityError:
        return False
    return True

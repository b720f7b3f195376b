"""操作日志: who may read it, its filters, and masked personal data in the changes."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from propfee.core.models import AuditAction, AuditEntry
from propfee.core.services import audit_record
from propfee.estates.services import party_update

pytestmark = pytest.mark.django_db


def _rows(html: str) -> int:
    return len(re.findall(r'<td class="text-nowrap">\d{4}-\d{2}-\d{2} \d{2}:\d{2}</td>', html))


@pytest.fixture
def entries(manager, collector, unit, owner):
    """Three audit rows in DEMO: a unit change by the manager (yesterday), a reveal by the
    collector and a party change by the manager (today)."""
    yesterday = timezone.now() - dt.timedelta(days=1)
    audit_record(
        actor=manager,
        action=AuditAction.UPDATE,
        obj=unit,
        estate_id=unit.estate_id,
        before={"status": "vacant"},
        after={"status": "occupied"},
    )
    AuditEntry.objects.filter(object_type="estates.unit").update(at=yesterday)
    audit_record(
        actor=collector,
        action=AuditAction.REVEAL,
        obj=owner,
        estate_id=unit.estate_id,
        note="查看：手机",
    )
    party_update(party=owner, actor=manager, phones=["10012340000"])
    AuditEntry.objects.filter(object_type="estates.party", action="update").update(
        estate_id=unit.estate_id
    )


def test_audit_log_is_for_managers_only(signed_in, collector, finance):
    assert signed_in(collector).get("/audit/").status_code == 403
    assert signed_in(finance).get("/audit/").status_code == 403


def test_audit_log_lists_and_masks_phones(signed_in, manager, entries):
    page = signed_in(manager).get("/audit/").text
    assert _rows(page) == 3
    assert "100****5678 → 100****0000" in page
    assert "10012340000" not in page and "10012345678" not in page


def test_audit_log_filters(signed_in, manager, collector, entries):
    client = signed_in(manager)
    today = timezone.localdate()
    assert _rows(client.get("/audit/", {"action": "reveal"}).text) == 1
    assert _rows(client.get("/audit/", {"object_type": "estates.party"}).text) == 2
    assert _rows(client.get("/audit/", {"actor": "collector1"}).text) == 1
    assert _rows(client.get("/audit/", {"date_from": today.isoformat()}).text) == 2
    assert (
        _rows(client.get("/audit/", {"date_to": (today - dt.timedelta(days=1)).isoformat()}).text)
        == 1
    )
    page = client.get("/audit/", {"action": "reveal", "object_type": "estates.party"}).text
    assert _rows(page) == 1
    assert 'href="?action=reveal&amp;object_type=estates.party&amp;export=xlsx"' in page

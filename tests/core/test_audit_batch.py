"""AuditBatch, the one bulk path of the audit log: every row it writes holds what
`audit_entry_build` makes from the same arguments, and it commits with the caller's transaction."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from propfee.core.models import AuditAction, AuditEntry
from propfee.core.services import AuditBatch, audit_entry_build

FIELDS = ["actor_id", "action", "object_type", "object_id", "object_repr", "estate_id"]
FIELDS += ["before", "after", "note"]


def stored_and_expected(calls, *, actor, note):
    batch = AuditBatch(actor=actor, note=note)
    for kwargs in calls:
        batch.add(**kwargs)
    assert batch.write() == len(calls)
    stored = list(AuditEntry.objects.order_by("pk"))
    expected = [audit_entry_build(actor=actor, **{"note": note, **kwargs}) for kwargs in calls]
    assert [s.at for s in stored] == [batch.at] * len(calls)
    return (
        [{f: getattr(s, f) for f in FIELDS} for s in stored],
        [{f: getattr(e, f) for f in FIELDS} for e in expected],
    )


def test_rows_equal_what_audit_entry_build_makes(estate, admin_user):
    calls = [
        {
            "action": AuditAction.CREATE,
            "obj": estate,
            "estate_id": estate.pk,
            "after": {"code": "DEMO", "units": [1, 2], "area_m2": "89.50", "since": None},
        },
        {
            "action": AuditAction.UPDATE,
            "obj": estate,
            "object_repr": "长" * 300,
            "before": {"name": "旧名"},
            "after": {"name": "新名"},
            "note": "改名" * 300,
        },
        {"action": AuditAction.IMPORT, "object_type": "import.units", "object_repr": "a.csv"},
    ]
    stored, expected = stored_and_expected(calls, actor=admin_user, note="导入：a.csv")
    assert stored == expected
    assert stored[0]["object_type"] == "estates.estate"
    assert stored[0]["object_id"] == str(estate.pk)
    assert len(stored[1]["object_repr"]) == 200 and len(stored[1]["note"]) == 500
    assert stored[2]["note"] == "导入：a.csv"


def test_anonymous_actor_is_stored_as_none(estate):
    calls = [{"action": AuditAction.DELETE, "obj": estate, "note": "删除"}]
    stored, expected = stored_and_expected(calls, actor=AnonymousUser(), note="")
    assert stored == expected
    assert stored[0]["actor_id"] is None


def test_rows_roll_back_with_the_callers_transaction(estate):
    with pytest.raises(RuntimeError), transaction.atomic():
        batch = AuditBatch(actor=None, note="x")
        batch.add(action=AuditAction.CREATE, obj=estate)
        batch.write()
        assert AuditEntry.objects.count() == 1
        raise RuntimeError("the change failed")
    assert not AuditEntry.objects.exists()

"""waiver_create: manager approval, refusal of an excess (with the Chinese message), and the
re-allocation a waiver causes."""

from __future__ import annotations

import datetime as dt

import pytest

from propfee.core.models import AuditEntry
from propfee.core.roles import PermissionDenied
from propfee.ledger.models import Waiver
from propfee.ledger.services import LedgerError, waiver_create
from tests.payments.conftest import current

D = dt.date


def waive(charge, amount_fen, on, actor, component="penalty", reason="物业服务问题协商减免"):
    return waiver_create(
        charge=charge,
        component=component,
        amount_fen=amount_fen,
        effective_on=on,
        reason=reason,
        actor=actor,
    )


def test_a_waiver_beyond_what_is_owed_is_refused(make_charge, manager):
    c1 = make_charge()
    # By 02-20, 20 days × 5 = 100 分 of penalty have accrued; 200 would be an excess of 100.
    with pytest.raises(LedgerError, match=r"减免金额超过 2026-02-20 当日所欠违约金.*1\.00.*1\.00"):
        waive(c1, 200, D(2026, 2, 20), manager)
    assert not Waiver.objects.exists()
    waiver = waive(c1, 100, D(2026, 2, 20), manager)
    assert waiver.approved_by == manager
    assert AuditEntry.objects.filter(object_type="ledger.waiver", object_id=str(waiver.pk)).exists()


def test_a_principal_waiver_beyond_the_principal_is_refused(make_charge, manager):
    c1 = make_charge()
    with pytest.raises(LedgerError, match="所欠本金"):
        waive(c1, 10001, D(2026, 1, 31), manager, component="principal")


def test_only_managers_and_admins_approve(make_charge, finance, collector, admin_user):
    c1 = make_charge()
    for actor in (finance, collector):
        with pytest.raises(PermissionDenied):
            waive(c1, 50, D(2026, 2, 20), actor)
    waive(c1, 50, D(2026, 2, 20), admin_user)


def test_a_backdated_waiver_reallocates_a_payment(make_charge, pay, manager):
    c1 = make_charge()
    payment = pay(7000, D(2026, 2, 20))
    # Without a waiver: 20 × 5 = 100 penalty, 6900 principal.
    assert current(payment) == [(c1.pk, "penalty", 100), (c1.pk, "principal", 6900)]
    # 4000 of principal waived on 02-10: 10 days at 5 + 10 days on 6000 at 3 = 80 penalty;
    # the payment pays 80 and the 6000 principal left, and 920 becomes credit.
    waive(c1, 4000, D(2026, 2, 10), manager, component="principal")
    assert current(payment) == [(c1.pk, "penalty", 80), (c1.pk, "principal", 6000)]


def test_reason_and_amount_are_required(make_charge, manager):
    c1 = make_charge()
    with pytest.raises(LedgerError, match="原因"):
        waive(c1, 50, D(2026, 2, 20), manager, reason=" ")
    with pytest.raises(LedgerError, match="大于0"):
        waive(c1, 0, D(2026, 2, 20), manager)

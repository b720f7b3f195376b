"""Waivers (减免) and write-offs (坏账核销): waiver_create (manager approval, refusal of an
excess, approval limits), requests and their approval or rejection, reversal (撤销) with the
re-allocation it causes, and the role × action matrix."""

from __future__ import annotations

import datetime as dt

import pytest

from propfee.core.models import AuditEntry
from propfee.core.roles import PermissionDenied, Role
from propfee.ledger.constants import (
    WaiverKind,
    WaiverRequestStatus,
    WaiverStatus,
    WriteOffReason,
)
from propfee.ledger.models import Waiver, WaiverRequest
from propfee.ledger.rates import current_period_rate
from propfee.ledger.selectors import account_facts, allocations_current, allocations_expected
from propfee.ledger.services import (
    LedgerError,
    waiver_create,
    waiver_limit_fen,
    waiver_limit_set,
    waiver_request_approve,
    waiver_request_create,
    waiver_request_reject,
    waiver_reverse,
)
from tests.payments.conftest import current

D = dt.date


def waive(
    charge, amount_fen, on, actor, component="penalty", reason="物业服务问题协商减免", **kwargs
):
    return waiver_create(
        charge=charge,
        component=component,
        amount_fen=amount_fen,
        effective_on=on,
        reason=reason,
        actor=actor,
        **kwargs,
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


# --- requests, approval, limits ---------------------------------------------------------------


def ask(charge, actor, principal=0, penalty=0, on=None, kind="waiver", **kwargs):
    kwargs.setdefault("reason", "电梯停运一个月，协商减免")
    return waiver_request_create(
        charge=charge,
        principal_fen=principal,
        penalty_fen=penalty,
        effective_on=on or D(2026, 2, 20),
        actor=actor,
        kind=kind,
        **kwargs,
    )


def verified(unit) -> bool:
    """`ledger verify` for one unit: the stored allocations equal a fresh replay."""
    facts = account_facts(unit_ids=[unit.pk])[unit.pk]
    return allocations_current(unit_ids=[unit.pk])[unit.pk] == allocations_expected(facts.replay())


def test_a_request_approved_writes_one_waiver_per_component(make_charge, collector, manager):
    c1 = make_charge()
    request = ask(c1, collector, principal=2000, penalty=100)
    assert request.status == WaiverRequestStatus.PENDING
    assert not Waiver.objects.exists()  # nothing is reduced before approval

    waivers = waiver_request_approve(request=request, actor=manager, note="同意")
    request.refresh_from_db()
    assert request.status == WaiverRequestStatus.APPROVED
    assert (request.decided_by, request.decision_note) == (manager, "同意")
    assert sorted((w.component, w.amount_fen) for w in waivers) == [
        ("penalty", 100),
        ("principal", 2000),
    ]
    for waiver in waivers:
        assert (waiver.kind, waiver.request, waiver.requested_by, waiver.approved_by) == (
            WaiverKind.WAIVER,
            request,
            collector,
            manager,
        )
        assert waiver.effective_on == D(2026, 2, 20)
    notes = set(
        AuditEntry.objects.filter(object_type="ledger.waiverrequest").values_list("note", flat=True)
    )
    assert notes == {"减免申请：电梯停运一个月，协商减免", "减免申请已批准：同意"}


def test_a_request_beyond_what_is_owed_is_refused_when_filed(make_charge, collector):
    c1 = make_charge()
    with pytest.raises(LedgerError, match="所欠违约金"):
        ask(c1, collector, penalty=101)  # 100 accrued by 02-20
    with pytest.raises(LedgerError, match="至少一项大于0"):
        ask(c1, collector)
    with pytest.raises(LedgerError, match="原因"):
        ask(c1, collector, penalty=50, reason="  ")
    assert not WaiverRequest.objects.exists()


def test_self_approval_is_refused(make_charge, manager):
    c1 = make_charge()
    request = ask(c1, manager, penalty=50)
    with pytest.raises(LedgerError, match="不能审批自己提交的申请"):
        waiver_request_approve(request=request, actor=manager)
    request.refresh_from_db()
    assert request.status == WaiverRequestStatus.PENDING
    assert not Waiver.objects.exists()


def test_a_manager_approves_principal_up_to_2000_yuan_per_charge(
    make_charge, collector, manager, admin_user
):
    c1 = make_charge(principal_fen=500000)  # ¥5,000.00
    first = ask(c1, collector, principal=150000, on=D(2026, 1, 31))
    waiver_request_approve(request=first, actor=manager)
    # ¥1,500 already waived on the charge: ¥600 more would make ¥2,100.
    second = ask(c1, collector, principal=60000, on=D(2026, 1, 31))
    message = (
        r"超出审批权限：项目经理每笔应收最多可批准减免本金 ¥2,000\.00"
        r"（该应收已减免本金 ¥1,500\.00），本次 ¥600\.00"
    )
    with pytest.raises(LedgerError, match=message):
        waiver_request_approve(request=second, actor=manager)
    assert Waiver.objects.count() == 1
    # The admin has no limit.
    waiver_request_approve(request=second, actor=admin_user)
    assert Waiver.objects.filter(status=WaiverStatus.ACTIVE).count() == 2


def test_penalty_waivers_have_no_limit_for_a_manager(make_charge, manager):
    c1 = make_charge(principal_fen=10_000_000)  # ¥100,000: 5,000 分 of penalty a day
    # 59 days × 5000 = 295000 accrued by 03-31: all of it (¥2,950) may be waived.
    waiver = waive(c1, 295_000, D(2026, 3, 31), manager)
    assert waiver.amount_fen == 295_000


def test_a_company_sets_its_own_limits(make_charge, company, admin_user, manager):
    assert waiver_limit_fen(company_id=company.pk, role=Role.MANAGER, component="principal") == (
        200_000
    )
    waiver_limit_set(
        company=company, role=Role.MANAGER, component="penalty", max_fen=5000, actor=admin_user
    )
    waiver_limit_set(
        company=company, role=Role.MANAGER, component="principal", max_fen=None, actor=admin_user
    )
    assert waiver_limit_fen(company_id=company.pk, role=Role.MANAGER, component="penalty") == 5000
    assert waiver_limit_fen(company_id=company.pk, role=Role.MANAGER, component="principal") is None
    c1 = make_charge(principal_fen=1_000_000)
    with pytest.raises(LedgerError, match=r"违约金 ¥50\.00"):
        waive(c1, 5001, D(2026, 3, 31), manager)
    waive(c1, 900_000, D(2026, 1, 31), manager, component="principal")  # ¥9,000: no limit now
    with pytest.raises(PermissionDenied):
        waiver_limit_set(
            company=company, role=Role.MANAGER, component="penalty", max_fen=0, actor=manager
        )


def test_rejection_needs_a_reason_and_closes_the_request(make_charge, collector, manager):
    c1 = make_charge()
    request = ask(c1, collector, penalty=50)
    with pytest.raises(LedgerError, match="驳回原因"):
        waiver_request_reject(request=request, actor=manager, reason=" ")
    waiver_request_reject(request=request, actor=manager, reason="欠费原因不属实")
    request.refresh_from_db()
    assert (request.status, request.decision_note, request.decided_by) == (
        WaiverRequestStatus.REJECTED,
        "欠费原因不属实",
        manager,
    )
    with pytest.raises(LedgerError, match="该申请已驳回"):
        waiver_request_approve(request=request, actor=manager)
    assert not Waiver.objects.exists()


# --- write-off (坏账核销) ----------------------------------------------------------------------


def test_a_write_off_needs_a_reason_code_and_the_write_off_capability(
    make_charge, collector, manager, admin_user
):
    c1 = make_charge()
    with pytest.raises(LedgerError, match="核销原因"):
        ask(c1, collector, principal=10000, penalty=100, kind="write_off")
    request = ask(
        c1,
        collector,
        principal=10000,
        penalty=100,
        kind="write_off",
        write_off_reason=WriteOffReason.UNREACHABLE,
        reason="业主失联三年，多次上门无人",
    )
    with pytest.raises(PermissionDenied):
        waiver_request_approve(request=request, actor=manager)
    with pytest.raises(PermissionDenied):
        waiver_request_reject(request=request, actor=manager, reason="再催一次")
    waivers = waiver_request_approve(request=request, actor=admin_user)
    assert {(w.kind, w.component, w.amount_fen) for w in waivers} == {
        ("write_off", "principal", 10000),
        ("write_off", "penalty", 100),
    }
    # Nothing is owed after 02-20, and nothing accrues: the principal is gone.
    from propfee.ledger.selectors import statement_for_unit

    statement = statement_for_unit(unit=c1.unit, as_of=D(2026, 6, 30))
    assert statement.total_outstanding_fen == 0


def test_a_write_off_needs_no_limit_but_a_manager_cannot_waive_with_it(make_charge, manager):
    c1 = make_charge(principal_fen=1_000_000)
    with pytest.raises(PermissionDenied):
        waive(c1, 1_000_000, D(2026, 1, 31), manager, component="principal", kind="write_off")


def test_collection_rates_count_a_write_off_as_waived(make_charge, admin_user):
    c1 = make_charge()
    waive(c1, 4000, D(2026, 1, 31), admin_user, component="principal", kind="write_off")
    rate = current_period_rate(user=admin_user, period="2026-01", as_of=D(2026, 2, 28))
    assert (rate.numerator, rate.denominator) == (0, 6000)


# --- reversal (撤销) ---------------------------------------------------------------------------


def test_reversing_a_waiver_reopens_the_amount_and_reallocates(make_charge, pay, unit, manager):
    c1 = make_charge()
    payment = pay(7000, D(2026, 2, 20))
    waiver = waive(c1, 4000, D(2026, 2, 10), manager, component="principal")
    assert current(payment) == [(c1.pk, "penalty", 80), (c1.pk, "principal", 6000)]

    waiver_reverse(waiver=waiver, actor=manager, reason="误批，业主已搬回")
    waiver.refresh_from_db()
    assert (waiver.status, waiver.reversed_by, waiver.reverse_reason) == (
        WaiverStatus.REVERSED,
        manager,
        "误批，业主已搬回",
    )
    assert waiver.reversed_at is not None
    # As if the waiver had never been: 20 days × 5 = 100 penalty, 6900 principal.
    assert current(payment) == [(c1.pk, "penalty", 100), (c1.pk, "principal", 6900)]
    assert verified(unit)
    entry = AuditEntry.objects.get(object_type="ledger.waiver", action="update")
    assert entry.note == "撤销减免：误批，业主已搬回"
    assert (entry.before, entry.after) == ({"status": "active"}, {"status": "reversed"})

    with pytest.raises(LedgerError, match="已撤销"):
        waiver_reverse(waiver=waiver, actor=manager, reason="再撤一次")
    with pytest.raises(LedgerError, match="撤销原因"):
        waiver_reverse(waiver=waiver, actor=manager, reason="")


def test_reversing_a_penalty_waiver_owes_the_penalty_again(make_charge, unit, manager):
    from propfee.ledger.selectors import statement_for_unit

    c1 = make_charge()
    waiver = waive(c1, 100, D(2026, 2, 20), manager)
    as_of = D(2026, 3, 2)  # 30 days: 150 accrued
    assert statement_for_unit(unit=unit, as_of=as_of).penalty_outstanding_fen == 50
    waiver_reverse(waiver=waiver, actor=manager, reason="业主未按约定缴清本金")
    assert statement_for_unit(unit=unit, as_of=as_of).penalty_outstanding_fen == 150


# --- who may do what -------------------------------------------------------------------------

ROLES = [
    Role.ADMIN,
    Role.MANAGER,
    Role.COLLECTOR,
    Role.CUSTOMER_SERVICE,
    Role.FINANCE,
    Role.LEGAL,
    Role.COMMITTEE,
]
MAY = {
    "request": {
        Role.ADMIN,
        Role.MANAGER,
        Role.COLLECTOR,
        Role.CUSTOMER_SERVICE,
        Role.FINANCE,
        Role.LEGAL,
    },
    "approve": {Role.ADMIN, Role.MANAGER},
    "reject": {Role.ADMIN, Role.MANAGER},
    "write_off": {Role.ADMIN},
    "reverse": {Role.ADMIN, Role.MANAGER},
    "reverse_write_off": {Role.ADMIN},
}


def _do(action, actor, c1, requester, admin):
    if action == "request":
        return ask(c1, actor, penalty=50)
    if action in ("approve", "reject", "write_off"):
        kind = "write_off" if action == "write_off" else "waiver"
        request = ask(c1, requester, penalty=50, kind=kind, write_off_reason="other")
        if action == "reject":
            return waiver_request_reject(request=request, actor=actor, reason="不符合条件")
        return waiver_request_approve(request=request, actor=actor)
    kind = "write_off" if action == "reverse_write_off" else "waiver"
    waiver = waive(c1, 50, D(2026, 2, 20), admin, kind=kind)
    return waiver_reverse(waiver=waiver, actor=actor, reason="撤销")


@pytest.mark.parametrize("action", list(MAY))
@pytest.mark.parametrize("role", ROLES)
def test_role_action_matrix(make_charge, make_user, estate, collector, action, role):
    c1 = make_charge()
    admin = make_user(Role.ADMIN, username="boss")
    actor = make_user(role, username=f"u-{role}", estates=[estate])
    if role in MAY[action]:
        _do(action, actor, c1, collector, admin)
    else:
        with pytest.raises(PermissionDenied):
            _do(action, actor, c1, collector, admin)


def test_staff_outside_the_estate_are_refused(make_charge, make_user, other_estate, collector):
    c1 = make_charge()
    stranger = make_user(Role.MANAGER, username="west-manager", estates=[other_estate])
    with pytest.raises(PermissionDenied):
        ask(c1, stranger, penalty=50)
    request = ask(c1, collector, penalty=50)
    with pytest.raises(PermissionDenied):
        waiver_request_approve(request=request, actor=stranger)


def test_a_backdated_waiver_may_not_push_an_earlier_one_beyond_what_was_owed(make_charge, manager):
    c1 = make_charge()
    waive(c1, 6000, D(2026, 2, 10), manager, component="principal")
    # 5000 on 02-05 would leave 5000 on 02-10, less than the 6000 already waived that day.
    with pytest.raises(LedgerError, match="2026-02-10 已登记的本金减免将超过当日所欠"):
        waive(c1, 5000, D(2026, 2, 5), manager, component="principal")
    waive(c1, 4000, D(2026, 2, 5), manager, component="principal")
    assert Waiver.objects.count() == 2

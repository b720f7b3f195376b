"""诉讼时效: each charge's expiry from its restarts, worked by hand (docs/definitions.md
"诉讼时效届满日"), and the 时效即将届满 list."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from propfee.collection.constants import LegalKind, LegalStatus, RestartKind
from propfee.collection.legal import legal_matter_advance, legal_matter_create
from propfee.collection.limitation import (
    Restart,
    limitation_expiring,
    limitation_expiry,
    limitation_expiry_from,
)
from propfee.collection.models import LimitationRestart, Promise
from propfee.core.roles import Role
from propfee.documents.constants import DeliveryMethod, DocumentKind
from propfee.documents.models import DeliveryEvidence, Document

D = dt.date


def _demand(unit, *, kind=DocumentKind.NOTICE, delivered_on=None):
    document = Document.objects.create(
        kind=kind, estate=unit.estate, unit=unit, title=kind.label, sha256="0" * 64, number="N1"
    )
    if delivered_on is not None:
        DeliveryEvidence.objects.create(
            document=document,
            method=DeliveryMethod.EMS,
            delivered_on=delivered_on,
            tracking_no="EMS1234567890",
        )
    return document


def test_without_restarts_the_clock_runs_three_years_from_the_due_date(unit, make_charge):
    charge = make_charge(month=1)  # due 2026-01-31
    position = limitation_expiry(unit_ids=[unit.pk], as_of=D(2026, 12, 1))[charge.pk]
    assert position.expires_on == D(2029, 1, 31)
    assert position.restart is None


def test_a_delivered_notice_restarts_the_clock_on_its_delivery_day(unit, make_charge):
    january, february = make_charge(month=1), make_charge(month=2)
    _demand(unit, delivered_on=D(2026, 6, 10))
    positions = limitation_expiry(unit_ids=[unit.pk], as_of=D(2026, 12, 1))
    assert positions[january.pk].expires_on == D(2029, 6, 10)
    assert positions[february.pk].expires_on == D(2029, 6, 10)
    assert positions[january.pk].restart.kind == RestartKind.DEMAND


def test_an_undelivered_notice_and_a_notice_board_posting_restart_nothing(unit, make_charge):
    charge = make_charge(month=1)
    _demand(unit)  # printed, never delivered
    _demand(unit, kind=DocumentKind.PUBLIC_NOTICE, delivered_on=D(2026, 6, 10))
    position = limitation_expiry(unit_ids=[unit.pk], as_of=D(2026, 12, 1))[charge.pk]
    assert position.expires_on == D(2029, 1, 31)


def test_a_restart_after_as_of_or_before_the_due_date_does_not_count(unit, make_charge):
    charge = make_charge(month=3)  # due 2026-03-31
    _demand(unit, delivered_on=D(2026, 3, 1))  # before the charge fell due
    _demand(unit, delivered_on=D(2026, 9, 1))  # after as_of
    position = limitation_expiry(unit_ids=[unit.pk], as_of=D(2026, 8, 1))[charge.pk]
    assert position.expires_on == D(2029, 3, 31)


def test_a_part_payment_restarts_the_charge_it_paid(unit, make_charge, pay):
    january, february = make_charge(month=1), make_charge(month=2)
    pay(3000, D(2026, 8, 1))  # oldest first: all of it goes to January
    positions = limitation_expiry(unit_ids=[unit.pk], as_of=D(2026, 12, 1))
    assert positions[january.pk].expires_on == D(2029, 8, 1)
    assert positions[january.pk].restart.description == "部分缴费"
    assert positions[february.pk].expires_on == D(2029, 2, 28)


def test_a_promise_is_an_acknowledgement(unit, make_charge):
    charge = make_charge(month=1)
    with time_machine.travel(dt.datetime(2027, 5, 4, 10, tzinfo=dt.UTC), tick=False):
        Promise.objects.create(unit=unit, amount_fen=5000, promised_on=D(2027, 5, 20))
    position = limitation_expiry(unit_ids=[unit.pk], as_of=D(2027, 12, 1))[charge.pk]
    assert position.expires_on == D(2030, 5, 4)
    assert position.restart.kind == RestartKind.ACKNOWLEDGEMENT


def test_a_payment_order_filing_restarts_the_clock(unit, make_charge, make_user, estate):
    charge = make_charge(month=1)
    legal = make_user(Role.LEGAL, username="fawu", estates=[estate])
    boss = make_user(Role.MANAGER, username="jingli", estates=[estate])
    matter = legal_matter_create(
        unit=unit, kind=LegalKind.PAYMENT_ORDER, claim_fen=10000, actor=legal, on=D(2026, 8, 1)
    )
    legal_matter_advance(
        matter=matter, to_status=LegalStatus.APPROVED, actor=boss, on=D(2026, 8, 3)
    )
    legal_matter_advance(
        matter=matter,
        to_status=LegalStatus.FILED,
        actor=legal,
        on=D(2026, 9, 1),
        docket_no="(2026)浙0106民督12号",
    )
    position = limitation_expiry(unit_ids=[unit.pk], as_of=D(2026, 12, 1))[charge.pk]
    assert position.expires_on == D(2029, 9, 1)
    assert position.restart.kind == RestartKind.FILING
    # Filing twice is impossible and the restart row is there once.
    assert LimitationRestart.objects.filter(unit=unit, kind=RestartKind.FILING).count() == 1


def test_a_demand_after_expiry_revives_nothing():
    restarts = [
        Restart(D(2027, 1, 10), RestartKind.DEMAND, "a"),
        Restart(D(2031, 6, 1), RestartKind.DEMAND, "late"),
    ]
    clock_from, expires_on, counted = limitation_expiry_from(
        D(2026, 1, 31), restarts, as_of=D(2031, 12, 31)
    )
    assert (clock_from, expires_on, counted.description) == (D(2027, 1, 10), D(2030, 1, 10), "a")


def test_29_february_ends_on_28_february():
    assert limitation_expiry_from(D(2028, 2, 29), [], as_of=D(2028, 3, 1))[1] == D(2031, 2, 28)


# The list is read on 2028-12-01 and a payment arrives on 2028-11-01: not a future date then.
@time_machine.travel(dt.datetime(2028, 12, 1, 10, tzinfo=dt.UTC), tick=False)
def test_the_expiring_list_is_set_based_and_scoped(
    unit, other_unit, make_charge, pay, make_user, estate, django_assert_num_queries
):
    january, _february = make_charge(month=1), make_charge(month=2)
    make_charge(month=1, unit=other_unit)
    _demand(unit, delivered_on=D(2026, 2, 27))  # before February fell due: moves January only
    boss = make_user(Role.MANAGER, username="jingli", estates=[estate])
    with django_assert_num_queries(6):  # scope + charges + restarts (3) + part payments
        rows = limitation_expiring(user=boss, as_of=D(2028, 12, 1))
    # January moved to 2029-02-27 by the demand; February (due 02-28) to 2029-02-28: both
    # within 90 days of 2028-12-01; the other estate's unit is not the manager's.
    assert [(r.unit_code, r.expires_on, r.days_left) for r in rows] == [
        (unit.code, D(2029, 2, 27), 88),
        (unit.code, D(2029, 2, 28), 89),
    ]
    assert rows[0].charge_id == january.pk and rows[0].restart_kind == RestartKind.DEMAND
    pay(10000 + 5000, D(2028, 11, 1))  # January paid off: it leaves the list
    rows = limitation_expiring(user=boss, as_of=D(2028, 12, 1))
    assert [r.due_date for r in rows] == [D(2026, 2, 28)]


@pytest.mark.parametrize("include_expired, expected", [(False, 0), (True, 1)])
def test_expired_charges_show_only_when_asked(
    unit, make_charge, admin_user, include_expired, expected
):
    make_charge(month=1)
    rows = limitation_expiring(
        user=admin_user, as_of=D(2029, 3, 1), include_expired=include_expired
    )
    assert len(rows) == expected


def test_the_limitation_page_for_managers_only(
    client, unit, make_charge, make_user, estate, collector
):
    from django.urls import reverse

    make_charge(month=1)
    boss = make_user(Role.MANAGER, username="jingli", estates=[estate])
    client.force_login(collector)
    assert client.get(reverse("collection:limitation_list")).status_code == 403
    client.force_login(boss)
    url = reverse("collection:limitation_list") + "?as_of=2028-12-01"
    page = client.get(url).content.decode()
    assert "2029-01-31" in page and unit.code in page
    assert "2029-01-31" not in client.get(url + "&within_days=30").content.decode()
    export = client.get(url + "&export=xlsx")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")

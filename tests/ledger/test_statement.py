"""The statement (对账单): selector, JSON shape, CLI, API and the unit page agree.

The worked example (contract from 2026-01-01: 万分之五 a day = 5 分 a day on 10000 分, no grace,
penalty first):

- A: 2026-01 物业费, P = 10000, due 01-31.
- B: 2026-02 物业费, P = 10000, due 02-28.
- 4050 received 02-10 (late, partial): A's penalty through 02-10 = 10 days × 5 = 50, so it pays
  penalty 50 and principal 4000; A's principal left 6000 (3 分 a day from 02-11).
- A principal waiver of 2000 on B effective 03-05 (B runs on 8000 = 4 分 a day from 03-06).
- 30000 received 03-20 (after the statement date of 03-10).

As of 2026-03-10:
- A: accrued 50 + (02-11 … 03-10 = 18 + 10 = 28 days) × 3 = 50 + 84 = 134; paid 50 →
  outstanding 84. Principal outstanding 6000. Days overdue 03-10 − 01-31 = 38.
- B: accrued (03-01 … 03-05) 5 × 5 + (03-06 … 03-10) 5 × 4 = 25 + 20 = 45. Principal
  outstanding 10000 − 2000 = 8000. Days overdue 10.
- Totals: principal 14000 (¥140.00), penalty 84 + 45 = 129 (¥1.29), total ¥141.29, no credit.
- Limitation: the part payment of 02-10 acknowledges A (诉讼时效规定 art. 14), so A's three years
  run from 02-10 (2029-02-10); B's from its due date (2029-02-28).
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
import time_machine
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from propfee.core.roles import Role
from propfee.ledger.selectors import limitation_expires_on, statement_for_unit, statement_json
from propfee.ledger.services import waiver_create

AS_OF = dt.date(2026, 3, 10)


@pytest.fixture
def account(make_charge, pay, manager):
    a = make_charge(1)
    b = make_charge(2)
    pay(4050, dt.date(2026, 2, 10))
    waiver_create(
        charge=b,
        component="principal",
        amount_fen=2000,
        effective_on=dt.date(2026, 3, 5),
        reason="维修补偿",
        actor=manager,
    )
    pay(30000, dt.date(2026, 3, 20))
    return a, b


def _cli(*args: str) -> str:
    out = io.StringIO()
    call_command("statement", *args, stdout=out)
    return out.getvalue()


def test_worked_example(unit, account):
    a, b = account
    data = statement_json(statement_for_unit(unit=unit, as_of=AS_OF))
    assert data == {
        "unit": "DEMO-3-1502",
        "as_of": "2026-03-10",
        "charges": [
            {
                "id": a.pk,
                "fee_item": "物业费",
                "period_start": "2026-01-01",
                "period_end": "2026-01-31",
                "due_date": "2026-01-31",
                "principal": "100.00",
                "principal_paid": "40.00",
                "principal_waived": "0.00",
                "principal_outstanding": "60.00",
                "penalty_accrued": "1.34",
                "penalty_paid": "0.50",
                "penalty_waived": "0.00",
                "penalty_outstanding": "0.84",
                "days_overdue": 38,
                "limitation_expires_on": "2029-02-10",
            },
            {
                "id": b.pk,
                "fee_item": "物业费",
                "period_start": "2026-02-01",
                "period_end": "2026-02-28",
                "due_date": "2026-02-28",
                "principal": "100.00",
                "principal_paid": "0.00",
                "principal_waived": "20.00",
                "principal_outstanding": "80.00",
                "penalty_accrued": "0.45",
                "penalty_paid": "0.00",
                "penalty_waived": "0.00",
                "penalty_outstanding": "0.45",
                "days_overdue": 10,
                "limitation_expires_on": "2029-02-28",
            },
        ],
        "totals": {
            "principal_outstanding": "140.00",
            "penalty_outstanding": "1.29",
            "total_outstanding": "141.29",
            "unapplied_credit": "0.00",
        },
    }


def test_after_the_last_payment_the_rest_is_credit(unit, account):
    # As of 03-20 the 30000 pays A: penalty 134 + 10 days × 3 = 164 − 50 paid = 114, principal
    # 6000; B: penalty 45 + 10 days × 4 = 85, principal 8000. 30000 − 6114 − 8085 = 15801.
    data = statement_json(statement_for_unit(unit=unit, as_of=dt.date(2026, 3, 20)))
    assert [c["penalty_paid"] for c in data["charges"]] == ["1.64", "0.85"]
    assert [c["days_overdue"] for c in data["charges"]] == [0, 0]
    assert data["totals"] == {
        "principal_outstanding": "0.00",
        "penalty_outstanding": "0.00",
        "total_outstanding": "0.00",
        "unapplied_credit": "158.01",
    }


def test_as_of_before_a_payment_shows_it_unpaid(unit, account):
    # As of 02-09 the 4050 of 02-10 has not arrived: A owes 10000 and 9 days × 5 = 45; B is
    # not due yet (no penalty, not overdue) and its waiver of 03-05 is not in force.
    data = statement_json(statement_for_unit(unit=unit, as_of=dt.date(2026, 2, 9)))
    first, second = data["charges"]
    assert (first["principal_paid"], first["principal_outstanding"]) == ("0.00", "100.00")
    assert (first["penalty_accrued"], first["days_overdue"]) == ("0.45", 9)
    assert (second["principal_waived"], second["penalty_accrued"]) == ("0.00", "0.00")
    assert second["days_overdue"] == 0
    assert data["totals"]["total_outstanding"] == "200.45"


def test_query_count_is_constant(unit, make_charge, account, django_assert_num_queries):
    for month in range(3, 13):
        make_charge(month)
    with django_assert_num_queries(10):  # 4 ledger facts + charge details + 5 for limitation
        statement_for_unit(unit=unit, as_of=AS_OF)


def test_limitation_on_29_february():
    assert limitation_expires_on(dt.date(2028, 2, 29)) == dt.date(2031, 2, 28)


def test_api_and_cli_give_the_same_json(unit, account, collector):
    client = APIClient()
    client.force_login(collector)
    response = client.get(f"/api/v1/units/{unit.code}/statement/?as_of=2026-03-10")
    assert response.status_code == 200
    from_api = json.loads(response.content)
    from_cli = json.loads(_cli(unit.code, "--as-of", "2026-03-10", "--format", "json"))
    assert from_api == from_cli
    assert from_api["totals"]["total_outstanding"] == "141.29"


def test_api_out_of_scope_is_404_and_bad_date_400(unit, other_unit, account, collector):
    client = APIClient()
    client.force_login(collector)
    assert client.get(f"/api/v1/units/{other_unit.code}/statement/").status_code == 404
    response = client.get(f"/api/v1/units/{unit.code}/statement/?as_of=2026-13-01")
    assert response.status_code == 400
    assert "对账日期格式应为" in response.content.decode()


def test_cli_table_and_unknown_unit(unit, account):
    text = _cli(unit.code.lower(), "--as-of", "2026-03-10")
    assert "未缴本金合计 ¥140.00" in text
    assert "未缴滞纳金合计 ¥1.29" in text
    assert "欠费合计 ¥141.29" in text
    with pytest.raises(CommandError, match="房屋不存在：NOPE-1"):
        _cli("NOPE-1")


@time_machine.travel(dt.datetime(2026, 3, 10, 10, tzinfo=dt.UTC), tick=False)
def test_unit_page_shows_the_account(client, unit, account, collector, make_user, estate):
    client.force_login(collector)
    page = client.get(f"/units/{unit.code}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "账户" in html
    assert "¥140.00" in html and "¥1.29" in html and "¥141.29" in html
    export = client.get(f"/units/{unit.code}/?export=statement")
    assert export.status_code == 200
    assert export["X-Export-Rows"] == "2"
    client.force_login(make_user(Role.COMMITTEE, username="committee1", estates=[estate]))
    assert client.get(f"/units/{unit.code}/").status_code == 403
    assert client.get(f"/units/{unit.code}/?export=statement").status_code == 403

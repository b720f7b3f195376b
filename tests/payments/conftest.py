"""Payment and ledger fixtures: the 物业费 fee item, a contract for the `estate` fixture from
2026-01-01 (万分之五 a day, no grace, penalty first), charges made directly with the worked
examples' figures (P = 10000 分, due 2026-01-31), and staff of the roles that take money.

tests/ledger/conftest.py imports these too."""

from __future__ import annotations

import datetime as dt

import factory
import pytest

from propfee.billing.models import Charge
from propfee.billing.services import contract_version_create, fee_item_create
from propfee.core.roles import Role
from propfee.ledger.models import Allocation
from propfee.payments.constants import PaymentChannel
from propfee.payments.services import payment_record

START = dt.date(2026, 1, 1)


class ChargeFactory(factory.django.DjangoModelFactory):
    """A posted charge outside any billing run, with the worked examples' defaults."""

    class Meta:
        model = Charge

    period_start = START
    period_end = dt.date(2026, 1, 31)
    due_date = dt.date(2026, 1, 31)
    principal_fen = 10000


@pytest.fixture
def fee_item(company):
    return fee_item_create(company=company, code="WYF", name="物业费", actor=None)


@pytest.fixture
def contract(estate):
    return contract_version_create(estate=estate, effective_from=START, actor=None)


@pytest.fixture
def make_charge(unit, fee_item, contract):
    """make_charge(month=1, principal_fen=10000, due_date=...) → a charge of `unit`, due on the
    month's last day unless `due_date` is given."""

    def make(month: int = 1, principal_fen: int = 10000, **kwargs):
        target = kwargs.pop("unit", unit)
        start = dt.date(2026, month, 1)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        kwargs.setdefault("due_date", end)
        return ChargeFactory(
            unit=target,
            fee_item=fee_item,
            period_start=start,
            period_end=end,
            principal_fen=principal_fen,
            **kwargs,
        )

    return make


_references = iter(range(1, 10**6))


@pytest.fixture
def pay(unit):
    """pay(amount_fen, received_on, …) → a bank transfer recorded by the system (actor None)."""

    def record(amount_fen: int, received_on: dt.date, **kwargs):
        kwargs.setdefault("unit", unit)
        kwargs.setdefault("channel", PaymentChannel.BANK_TRANSFER)
        kwargs.setdefault("reference", f"BANK-{next(_references):06d}")
        kwargs.setdefault("actor", None)
        return payment_record(amount_fen=amount_fen, received_on=received_on, **kwargs)

    return record


def current(payment) -> list[tuple[int, str, int]]:
    """The payment's current allocations as (charge id, component, fen), in charge order."""
    return list(
        Allocation.objects.filter(payment=payment, superseded_at__isnull=True)
        .order_by("charge_id", "component")
        .values_list("charge_id", "component", "amount_fen")
    )


@pytest.fixture
def finance(make_user, estate):
    return make_user(Role.FINANCE, username="finance1", estates=[estate])


@pytest.fixture
def manager(make_user, estate):
    return make_user(Role.MANAGER, username="manager1", estates=[estate])


@pytest.fixture
def front_desk(make_user, estate):
    return make_user(Role.CUSTOMER_SERVICE, username="kefu1", estates=[estate])

"""Documents fixtures: uploads in a temporary media folder, a law firm in the settings, and the
`unit` fixture owing three months of 物业费 (10000 分 each, due 2026-01-31, 02-28, 03-31; at the
end of 2026-04-30: principal 300.00, penalty 4.45 + 3.05 + 1.50 = 9.00, total 309.00)."""

from __future__ import annotations

import datetime as dt

import pytest

from propfee.core.roles import Role
from tests.payments.conftest import (  # noqa: F401
    contract,
    fee_item,
    finance,
    front_desk,
    make_charge,
    manager,
    pay,
)

AS_OF = dt.date(2026, 4, 30)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # The worked figures above are the contract's penalty; tests of the default ("capped" at
    # the reasonableness bound) set it themselves (test_demand_claims.py).
    settings.PROPFEE_DEMAND_PENALTY = "contract"
    settings.PROPFEE_LAW_FIRM = {
        "name": "广东明理律师事务所",
        "address": "广州市天河区珠江新城华夏路10号",
        "phone": "020-12345678",
        "lawyer": "陈律",
    }


@pytest.fixture
def owing(unit, owner, make_charge):  # noqa: F811
    """`unit` (owner 王建国) with three unpaid months."""
    for month in (1, 2, 3):
        make_charge(month=month)
    return unit


@pytest.fixture
def legal(make_user, estate):
    return make_user(Role.LEGAL, username="legal1", estates=[estate])

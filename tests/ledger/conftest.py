"""The payment fixtures (tests/payments/conftest.py) serve the ledger tests too."""

from tests.payments.conftest import (  # noqa: F401
    contract,
    fee_item,
    finance,
    front_desk,
    make_charge,
    manager,
    pay,
)

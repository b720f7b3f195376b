"""The run's overdue figures equal the arrears ledger's."""

from __future__ import annotations

import datetime as dt

from propfee.collection.selectors import overdue_by_unit
from propfee.ledger.rates import arrears_by_unit

D = dt.date


def test_overdue_by_unit_equals_the_arrears_ledger(owing, pay, company, admin_user, other_unit):
    a = owing("101", months=[1, 2, 3])
    b = owing("102", months=[2, 3], principal_fen=25000)
    c = owing("103", months=[1])
    owing("104", months=[5])  # not due yet
    pay(15000, D(2026, 3, 10), unit=a)  # part of January and February
    pay(50000, D(2026, 4, 2), unit=b)  # after the as-of date: still owed on it
    pay(10000, D(2026, 2, 1), unit=c)  # January principal (a day's penalty first)
    as_of = D(2026, 4, 1)
    ours = overdue_by_unit(company=company, as_of=as_of)
    ledger = {row.unit_id: row for row in arrears_by_unit(user=admin_user, as_of=as_of)}
    assert set(ours) == set(ledger) == {a.pk, b.pk, c.pk}
    for unit_id, row in ledger.items():
        mine = ours[unit_id]
        assert (mine.principal_overdue_fen, mine.months_owed, mine.oldest_due_date) == (
            row.principal_overdue_fen,
            row.months_owed,
            row.oldest_due_date,
        )
    assert ours[b.pk].principal_overdue_fen == 50000 and ours[b.pk].months_owed == 2

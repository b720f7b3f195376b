"""Collection reads (催收): the overdue figures the daily run works from, the runs, cases and
tasks a user may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

from propfee.billing.models import Charge
from propfee.collection.models import Case, DunningRun
from propfee.core.models import User
from propfee.core.roles import Capability, role_can
from propfee.estates.models import Company, Estate, Unit
from propfee.estates.selectors import estates_visible_to
from propfee.ledger.constants import Component, WaiverStatus
from propfee.ledger.models import Allocation, Waiver
from propfee.payments.constants import PaymentStatus
from propfee.payments.models import Payment


@dataclass(frozen=True)
class UnitOverdue:
    """One unit's overdue principal on the run's date, with where it is."""

    unit_id: int
    estate_id: int
    building_id: int
    principal_overdue_fen: int
    months_owed: int
    oldest_due_date: dt.date


def overdue_by_unit(*, company: Company, as_of: dt.date) -> dict[int, UnitOverdue]:
    """Every unit of `company` with principal overdue on `as_of` (due before it, outstanding
    after the payments received ≤ as_of and the active waivers): the rule of the arrears
    ledger (`propfee.ledger.rates.arrears_by_unit`, a test keeps the two equal), for the whole
    company rather than what a user may see. One query.

    Written in SQL because the run reads it for every unit every day: allocations and waivers
    are summed once per charge (GROUP BY, joined) instead of in a correlated subquery per
    charge, which at 100,000 units is several times faster on both databases."""
    quote = connection.ops.quote_name
    charge, unit, estate = (quote(m._meta.db_table) for m in (Charge, Unit, Estate))
    allocation, payment, waiver = (quote(m._meta.db_table) for m in (Allocation, Payment, Waiver))
    if connection.vendor == "postgresql":
        month = "date_trunc('month', c.period_start)"
    else:
        month = "strftime('%%Y-%%m', c.period_start)"
    sql = f"""
        WITH paid AS (
            SELECT a.charge_id, SUM(a.amount_fen) AS fen
            FROM {allocation} a JOIN {payment} p ON p.id = a.payment_id
            WHERE a.superseded_at IS NULL AND a.component = %s
              AND p.status = %s AND p.received_on <= %s
            GROUP BY a.charge_id
        ), waived AS (
            SELECT w.charge_id, SUM(w.amount_fen) AS fen
            FROM {waiver} w
            WHERE w.status = %s AND w.component = %s AND w.effective_on <= %s
            GROUP BY w.charge_id
        ), owed AS (
            SELECT c.unit_id, c.period_start, c.due_date,
                   c.principal_fen - COALESCE(paid.fen, 0) - COALESCE(waived.fen, 0) AS fen
            FROM {charge} c
            JOIN {unit} u ON u.id = c.unit_id
            JOIN {estate} e ON e.id = u.estate_id
            LEFT JOIN paid ON paid.charge_id = c.id
            LEFT JOIN waived ON waived.charge_id = c.id
            WHERE e.company_id = %s AND c.due_date < %s
        )
        SELECT c.unit_id, u.estate_id, u.building_id, SUM(c.fen),
               COUNT(DISTINCT {month}), MIN(c.due_date)
        FROM owed c JOIN {unit} u ON u.id = c.unit_id
        WHERE c.fen > 0
        GROUP BY c.unit_id, u.estate_id, u.building_id
    """
    params: list[str | int | dt.date] = [
        Component.PRINCIPAL,
        PaymentStatus.RECORDED,
        as_of,
        WaiverStatus.ACTIVE,
        Component.PRINCIPAL,
        as_of,
        company.pk,
        as_of,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = {}
    for unit_id, estate_id, building_id, fen, months, oldest in rows:
        if isinstance(oldest, str):  # SQLite returns MIN() of a date column as text
            oldest = dt.date.fromisoformat(oldest)
        result[unit_id] = UnitOverdue(
            unit_id=unit_id,
            estate_id=estate_id,
            building_id=building_id,
            principal_overdue_fen=int(fen),
            months_owed=int(months),
            oldest_due_date=oldest,
        )
    return result


def runs_visible_to(user: User) -> QuerySet[DunningRun]:
    """The runs of the user's company (managers and admins), newest first."""
    if not role_can(user, Capability.RUN_DUNNING) or user.company_id is None:
        return DunningRun.objects.none()
    return DunningRun.objects.filter(company_id=user.company_id).select_related("started_by")


def cases_visible_to(user: User) -> QuerySet[Case]:
    """The cases of the estates the user may see."""
    return Case.objects.filter(estate__in=estates_visible_to(user).values("pk"))

"""Who the public arrears list (欠费公示) must never show, as the collection engine knows it: a
unit with any hold in force (installment plan, dispute, hardship, legal, manual, promise), an
installment plan requested or running, or a promise not yet due. Registered with
`documents.public_list.PROTECTED_UNIT_PROVIDERS` when the app is ready."""

from __future__ import annotations

import datetime as dt

from propfee.collection.constants import PlanStatus, PromiseStatus
from propfee.collection.holds import active_holds
from propfee.collection.models import InstallmentPlan, Promise
from propfee.core.bulk import many_values


def protected_units(unit_ids: list[int], on: dt.date) -> dict[int, str]:
    """unit → why it may not be listed on `on` (three queries)."""
    if not unit_ids:
        return {}
    protected: dict[int, str] = {}
    for unit_id, holds in active_holds(unit_ids=unit_ids, on=on).items():
        if holds:
            protected[unit_id] = f"暂停催收：{holds[0].kind}"
    for unit_id in InstallmentPlan.objects.filter(
        unit_id__in=many_values(unit_ids),
        status__in=(PlanStatus.REQUESTED, PlanStatus.ACTIVE),
    ).values_list("unit_id", flat=True):
        protected.setdefault(unit_id, "分期计划")
    for unit_id in Promise.objects.filter(
        unit_id__in=many_values(unit_ids), status=PromiseStatus.PENDING, promised_on__gte=on
    ).values_list("unit_id", flat=True):
        protected.setdefault(unit_id, "承诺缴费未到期")
    return protected


def register() -> None:
    from propfee.documents.public_list import PROTECTED_UNIT_PROVIDERS

    if protected_units not in PROTECTED_UNIT_PROVIDERS:
        PROTECTED_UNIT_PROVIDERS.append(protected_units)

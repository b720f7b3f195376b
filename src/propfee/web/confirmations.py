"""What a confirmation page says will happen, in the reader's language, from the plan the
service checked: "原业主 王建国 的产权关系将于 2026-02-28 结束；新业主 李娜 自 2026-03-01 起为业主
并为缴费人。" Nothing here decides anything; it only words the plan."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from propfee.estates.models import Occupancy
from propfee.estates.services import NewParty, TransferPlan


def _sentence(clauses: list[str]) -> str:
    text = pgettext("分句", "；").join(clauses) + pgettext("句末", "。")
    return text[:1].upper() + text[1:]  # English starts with a capital; Chinese is unchanged


def transfer_statement(plan: TransferPlan) -> str:
    on, until = plan.on.isoformat(), plan.until.isoformat()
    clauses = []
    if plan.closing:
        holders = "、".join(
            _("原%(role)s %(name)s") % {"role": occ.get_role_display(), "name": occ.party.name}
            for occ in plan.closing
        )
        clauses.append(
            _("%(holders)s 的产权关系将于 %(until)s 结束") % {"holders": holders, "until": until}
        )
    else:
        clauses.append(_("该房屋目前没有登记产权人"))
    for owner in plan.new_owners:
        values = {"name": owner.name, "on": on}
        if plan.payer is not None and owner is plan.payer:
            clauses.append(_("新业主 %(name)s 自 %(on)s 起为业主并为缴费人") % values)
        else:
            clauses.append(_("新业主 %(name)s 自 %(on)s 起为业主") % values)
    if plan.paying_tenant is not None:
        clauses.append(_("租户 %(name)s 仍为缴费人") % {"name": plan.paying_tenant.name})
    return _sentence(clauses)


def new_parties(plan: TransferPlan) -> list[NewParty]:
    """The new owners whose records the transfer creates."""
    return [owner for owner in plan.new_owners if isinstance(owner, NewParty)]


def occupancy_end_statement(occupancy: Occupancy, until: dt.date) -> str:
    clauses = [
        _("%(name)s（%(role)s）与 %(unit)s 的关系将于 %(until)s 结束")
        % {
            "name": occupancy.party.name,
            "role": occupancy.get_role_display(),
            "unit": occupancy.unit.code,
            "until": until.isoformat(),
        }
    ]
    if occupancy.is_payer:
        clauses.append(_("此后该房屋没有缴费人，请另行设置缴费人"))
    return _sentence(clauses)

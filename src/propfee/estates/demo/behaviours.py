"""Owner behaviours (业主缴费行为) of the demo: the seven kinds of payer, their weights, and
`demo_behaviour`, which gives every unit one as a pure function of its code and the seed."""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils.translation import gettext_lazy as _

from propfee.estates.demo.constants import DEMO_SEED


class Behaviour(models.TextChoices):
    """How a unit's payer behaves (业主缴费行为), which drives the demo's payment history."""

    ON_TIME = "on_time", _("按时缴费")
    SOMETIMES_LATE = "sometimes_late", _("偶尔逾期")
    CHRONICALLY_LATE = "chronically_late", _("长期拖欠")
    DISPUTING = "disputing", _("服务纠纷")
    HARDSHIP = "hardship", _("经济困难")
    VACANT_OR_DEVELOPER = "vacant_or_developer", _("空置/开发商持有")
    UNREACHABLE = "unreachable", _("联系不上")


# Weight out of 100, and what each behaviour means for the demo data:
#   on_time              62  pays every bill by its due date; may rent out (tenant pays)
#   sometimes_late       16  pays most bills on time, some one to three months late
#   chronically_late      6  owes many months; pays in lumps after escalation
#   disputing             4  withholds fees over a service complaint (服务质量不满)
#   hardship              3  wants to pay but cannot; candidate for an installment plan
#   vacant_or_developer   6  unit is 空置: unsold and held by the developer (DEMO only; half of
#                            the flats and all shops and parking), or bought but not moved in
#   unreachable           3  owner does not answer; 40% of their units are empty, 30% of them
#                            have no phone on file
BEHAVIOUR_WEIGHTS: dict[str, int] = {
    Behaviour.ON_TIME: 62,
    Behaviour.SOMETIMES_LATE: 16,
    Behaviour.CHRONICALLY_LATE: 6,
    Behaviour.DISPUTING: 4,
    Behaviour.HARDSHIP: 3,
    Behaviour.VACANT_OR_DEVELOPER: 6,
    Behaviour.UNREACHABLE: 3,
}
_WEIGHT_TOTAL = sum(BEHAVIOUR_WEIGHTS.values())


def demo_behaviour(unit_code: str, seed: int = DEMO_SEED) -> str:
    """The owner behaviour of the unit `unit_code` under `seed`, drawn by BEHAVIOUR_WEIGHTS.

    A hash rather than a random stream, so a unit's behaviour does not depend on which other
    units exist or on the order in which they are built."""
    digest = hashlib.blake2b(f"{seed}:{unit_code}".encode(), digest_size=8).digest()
    point = int.from_bytes(digest, "big") % _WEIGHT_TOTAL
    for behaviour, weight in BEHAVIOUR_WEIGHTS.items():
        if point < weight:
            return behaviour
        point -= weight
    raise AssertionError("unreachable: weights cover the whole range")

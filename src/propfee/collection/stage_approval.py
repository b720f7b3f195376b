"""What a manager's approval of a stage sets going (升级审批之后). Approving 法律程序 prepares
the legal matter at once — a 支付令 for the case's overdue principal, in status prepared, for
the legal staff to complete (court, claim, evidence) and a second person to approve — so the
case does not wait in the legal stage with nothing to work on. Approving 律师函 needs nothing
here: the next run enters the stage and writes its document action, which the dispatch
renders (rendering it now as well would make two letters)."""

from __future__ import annotations

from django.utils import timezone

from propfee.collection.constants import LegalKind, LegalStatus, StageKey
from propfee.collection.legal import legal_matter_create
from propfee.collection.models import Case, LegalMatter
from propfee.core.models import User

#: The kind of matter the legal stage prepares. A policy's stage carries no kind of its own;
#: 支付令 is the cheapest and quickest route for an undisputed money debt (民事诉讼法 art. 225;
#: a third of the court fee), and staff change course if the owner objects.
LEGAL_STAGE_KIND = LegalKind.PAYMENT_ORDER
#: The note the prepared matter carries.
PREPARED_NOTE = "法律程序阶段审批通过，系统已准备，请核对主张金额、受理法院和证据清单。"


def stage_approved(*, case: Case, stage: str, actor: User | None) -> LegalMatter | None:
    """Start what the approval of `stage` on `case` calls for; the legal matter it prepared,
    if any."""
    if stage == StageKey.LEGAL:
        return _legal_matter_prepare(case=case, actor=actor)
    return None


def _legal_matter_prepare(*, case: Case, actor: User | None) -> LegalMatter | None:
    """A prepared 支付令 for the case's overdue principal, through `legal_matter_create` (its
    checks, court-fee estimate, timeline line and audit row). None when the case already has
    an open matter that goes to court, or owes no principal (nothing to claim)."""
    open_matter = (
        LegalMatter.objects.filter(case=case, kind__in=_COURT_KINDS)
        .exclude(status=LegalStatus.CLOSED)
        .first()
    )
    if open_matter is not None or case.principal_overdue_fen <= 0:
        return None
    return legal_matter_create(
        unit=case.unit,
        kind=LEGAL_STAGE_KIND,
        claim_fen=case.principal_overdue_fen,
        actor=actor,
        note=PREPARED_NOTE,
        on=timezone.localdate(),
    )


_COURT_KINDS = (
    LegalKind.PAYMENT_ORDER,
    LegalKind.SMALL_CLAIM,
    LegalKind.LAWSUIT,
    LegalKind.ARBITRATION,
)

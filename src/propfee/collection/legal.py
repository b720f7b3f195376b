"""Legal matters (法律事务): lawyer letters, payment orders (支付令), small claims, lawsuits and
arbitration as an explicit status pipeline with a date on every step; the court-fee estimate by
the statutory bands; the evidence checklist; small-claims eligibility; the credit-referral flag.

Sources (docs/compliance.md): 诉讼费用交纳办法 arts. 13, 14, 16; 民事诉讼法 arts. 165, 225–228;
民法典 art. 195 with 诉讼时效规定 art. 11; 征信业管理条例 arts. 15–16."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from propfee.billing.models import Charge
from propfee.collection.case_events import case_event_record, open_case_of
from propfee.collection.constants import HoldKind, LegalKind, LegalStatus, RestartKind
from propfee.collection.limitation import limitation_restart_record
from propfee.collection.models import Hold, LegalMatter, LimitationRestart
from propfee.collection.permissions import unit_action_require
from propfee.core.models import AuditAction, User
from propfee.core.money import format_yuan, round_half_up
from propfee.core.roles import Capability
from propfee.core.services import audit_record
from propfee.documents.constants import DEMAND_KINDS, DocumentKind
from propfee.documents.models import DeliveryEvidence, Document
from propfee.estates.models import Estate, Unit
from propfee.estates.selectors import units_visible_to
from propfee.ledger.rates import principal_outstanding_by_charge


class LegalError(ValueError):
    """A legal-matter write refused, with the reason to show."""


class LegalTransitionError(LegalError):
    """A status change LEGAL_TRANSITIONS does not allow for the matter's kind."""


S = LegalStatus
_COURT: dict[str, frozenset[str]] = {
    S.PREPARED: frozenset({S.APPROVED, S.CLOSED}),
    S.APPROVED: frozenset({S.FILED, S.CLOSED}),
    S.FILED: frozenset({S.HEARING, S.JUDGMENT, S.CLOSED}),
    S.HEARING: frozenset({S.JUDGMENT, S.CLOSED}),
    S.JUDGMENT: frozenset({S.ENFORCEMENT, S.CLOSED}),
    S.ENFORCEMENT: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}

#: The one table of allowed status changes, per kind. A lawyer letter is approved, then sent
#: (closed; its delivery is recorded on the document). A payment order has no hearing: once
#: issued and not objected to it is enforced; an objection ends it (closed) and a lawsuit is a
#: new matter. Closing is allowed from every open status (paid, withdrawn, settled).
LEGAL_TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    LegalKind.LAWYER_LETTER: {
        S.PREPARED: frozenset({S.APPROVED, S.CLOSED}),
        S.APPROVED: frozenset({S.CLOSED}),
        S.CLOSED: frozenset(),
    },
    LegalKind.PAYMENT_ORDER: {
        S.PREPARED: frozenset({S.APPROVED, S.CLOSED}),
        S.APPROVED: frozenset({S.FILED, S.CLOSED}),
        S.FILED: frozenset({S.ENFORCEMENT, S.CLOSED}),
        S.ENFORCEMENT: frozenset({S.CLOSED}),
        S.CLOSED: frozenset(),
    },
    LegalKind.SMALL_CLAIM: _COURT,
    LegalKind.LAWSUIT: _COURT,
    LegalKind.ARBITRATION: _COURT,
}

#: The date field each status sets.
STATUS_DATE_FIELD: dict[str, str] = {
    S.PREPARED: "prepared_on",
    S.APPROVED: "approved_on",
    S.FILED: "filed_on",
    S.HEARING: "hearing_on",
    S.JUDGMENT: "judgment_on",
    S.ENFORCEMENT: "enforcement_on",
    S.CLOSED: "closed_on",
}

#: Kinds that go to a court or an arbitration commission (a filing restarts the clock).
FILED_KINDS = (
    LegalKind.PAYMENT_ORDER,
    LegalKind.SMALL_CLAIM,
    LegalKind.LAWSUIT,
    LegalKind.ARBITRATION,
)
#: Kinds whose end is a judgment or award (the credit-referral flag needs one unpaid).
JUDGMENT_KINDS = (LegalKind.SMALL_CLAIM, LegalKind.LAWSUIT, LegalKind.ARBITRATION)


def next_statuses(matter: LegalMatter) -> list[str]:
    """The statuses `matter` may move to, in pipeline order."""
    allowed = LEGAL_TRANSITIONS[matter.kind].get(matter.status, frozenset())
    return [s for s in LegalStatus.values if s in allowed]


# --- court fees ------------------------------------------------------------------------------

#: 诉讼费用交纳办法 art. 13(1): property cases, cumulative bands (upper bound in yuan, rate).
#: Up to ¥10,000 the fee is a flat ¥50 per case.
COURT_FEE_FLAT_FEN = 5000
COURT_FEE_BANDS: tuple[tuple[int | None, Fraction], ...] = (
    (100_000, Fraction(25, 1000)),
    (200_000, Fraction(2, 100)),
    (500_000, Fraction(15, 1000)),
    (1_000_000, Fraction(1, 100)),
    (2_000_000, Fraction(9, 1000)),
    (5_000_000, Fraction(8, 1000)),
    (10_000_000, Fraction(7, 1000)),
    (20_000_000, Fraction(6, 1000)),
    (None, Fraction(5, 1000)),
)


def _property_case_fee(claim_fen: int) -> Fraction:
    """The art. 13(1) fee in fen, unrounded."""
    fee = Fraction(COURT_FEE_FLAT_FEN)
    lower = 1_000_000  # ¥10,000 in fen
    for upper_yuan, rate in COURT_FEE_BANDS:
        if claim_fen <= lower:
            break
        upper = claim_fen if upper_yuan is None else min(claim_fen, upper_yuan * 100)
        fee += (upper - lower) * rate
        lower = upper
    return fee


def court_fee_estimate(*, kind: str, claim_fen: int) -> int:
    """The court's fee for claiming `claim_fen`, in fen (rounded half up once):
    - lawsuit: 案件受理费 by the bands of 诉讼费用交纳办法 art. 13(1);
    - small claim: half of it (art. 16: 简易程序 halves the fee; small claims are heard
      under the simplified procedure);
    - payment order: one third of it (art. 14(3));
    - lawyer letter: none; arbitration: 0 here, the commission's own schedule applies.
    ¥8,000 → ¥50; ¥50,000 → ¥1,050; ¥150,000 → ¥3,300 (small claim ¥1,650, payment order
    ¥1,100)."""
    if claim_fen <= 0 or kind in (LegalKind.LAWYER_LETTER, LegalKind.ARBITRATION):
        return 0
    fee = _property_case_fee(claim_fen)
    if kind == LegalKind.SMALL_CLAIM:
        fee /= 2
    elif kind == LegalKind.PAYMENT_ORDER:
        fee /= 3
    return round_half_up(Decimal(fee.numerator) / Decimal(fee.denominator))


# --- small claims and credit referral --------------------------------------------------------


def estate_province(estate: Estate) -> str:
    """The province (or municipality) of the estate, from its city: PROPFEE_CITY_PROVINCE maps
    a city to its province; a name that is a key of PROPFEE_SMALL_CLAIMS_LIMITS (a province or
    a municipality such as 上海市) is its own province. '' when unknown."""
    city = (estate.city or "").strip()
    if not city:
        return ""
    mapping: dict[str, str] = settings.PROPFEE_CITY_PROVINCE
    limits: dict[str, int] = settings.PROPFEE_SMALL_CLAIMS_LIMITS
    for name in (city, city.removesuffix("市"), f"{city.removesuffix('市')}市"):
        if name in mapping:
            return mapping[name]
        if name in limits:
            return name
    return ""


def small_claims_limit_fen(estate: Estate) -> int | None:
    """The small-claims ceiling for the estate's province (民事诉讼法 art. 165: 50% of the
    province's prior-year average annual wage of employed persons), in fen; None when it is not
    configured."""
    province = estate_province(estate)
    limits: dict[str, int] = settings.PROPFEE_SMALL_CLAIMS_LIMITS
    if province not in limits:
        return None
    return int(limits[province]) * 100


def small_claims_eligible(*, estate: Estate, claim_fen: int) -> bool | None:
    """Whether a claim of `claim_fen` fits the small-claims procedure there (None: unknown)."""
    limit = small_claims_limit_fen(estate)
    if limit is None:
        return None
    return 0 < claim_fen <= limit


def credit_referral_region(estate: Estate) -> bool:
    """Whether a local regulation of the estate's city or province provides credit referral of
    property-fee debtors (PROPFEE_CREDIT_REFERRAL_REGIONS; empty by default)."""
    regions = set(settings.PROPFEE_CREDIT_REFERRAL_REGIONS)
    city = (estate.city or "").strip()
    names = {city, city.removesuffix("市"), estate_province(estate)} - {""}
    return bool(regions & names)


def credit_referral_eligible(matter: LegalMatter, estate: Estate) -> bool:
    """征信报送 only after a judgment or award that is unpaid (recovered below the claim) and
    only where a local regulation provides it (征信业管理条例 arts. 15–16)."""
    return (
        matter.kind in JUDGMENT_KINDS
        and matter.status in (S.JUDGMENT, S.ENFORCEMENT)
        and matter.recovered_fen < matter.claim_fen
        and credit_referral_region(estate)
    )


# --- evidence --------------------------------------------------------------------------------

#: The evidence a court asks for in a property-fee case (compliance-facts: court practice).
EVIDENCE_ITEMS: tuple[tuple[str, str], ...] = (
    ("service_contract", "物业服务合同"),
    ("ownership", "房屋产权证明（不动产权证书或购房合同）"),
    ("fee_basis", "收费依据（合同约定或价格主管部门备案）"),
    ("arrears", "欠费明细（按计费期间）"),
    ("demands", "催缴通知及送达凭证"),
    ("services", "已提供物业服务的证明（巡查、保洁、维修记录等）"),
)
#: The items the system can see for itself.
AUTOMATIC_EVIDENCE = ("service_contract", "arrears", "demands")


@dataclass(frozen=True)
class EvidenceItem:
    key: str
    label: str
    automatic: bool
    found: bool
    ticked: bool

    @property
    def present(self) -> bool:
        return self.found or self.ticked


def evidence_checklist(matter: LegalMatter) -> list[EvidenceItem]:
    """The checklist of `matter`: what the system finds (an uploaded service contract, demands
    delivered with evidence — on paper or, recorded by messaging, electronically — charges with
    arrears to list) and what staff ticked (at most four queries)."""
    found = {
        "service_contract": Document.objects.filter(
            unit_id=matter.unit_id, kind=DocumentKind.CONTRACT
        ).exists(),
        "demands": DeliveryEvidence.objects.filter(
            document__unit_id=matter.unit_id, document__kind__in=DEMAND_KINDS
        ).exists()
        or LimitationRestart.objects.filter(
            unit_id=matter.unit_id, kind=RestartKind.DEMAND
        ).exists(),
        "arrears": matter.claim_fen > 0
        and matter.unit.charges.exists(),  # the statement lists them by period
    }
    ticks = matter.evidence or {}
    return [
        EvidenceItem(
            key=key,
            label=label,
            automatic=key in AUTOMATIC_EVIDENCE,
            found=bool(found.get(key)),
            ticked=bool(ticks.get(key)),
        )
        for key, label in EVIDENCE_ITEMS
    ]


# --- services --------------------------------------------------------------------------------


def _money_check(value: int, label: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LegalError(f"{label}必须是不小于零的整数分")


@transaction.atomic
def legal_matter_create(
    *,
    unit: Unit,
    kind: str,
    claim_fen: int,
    actor: User | None,
    court: str = "",
    law_firm: str = "",
    lawyer_fee_fen: int = 0,
    note: str = "",
    on: dt.date | None = None,
) -> LegalMatter:
    """准备法律事务: a matter in status prepared with the court-fee estimate; a small claim
    above the province's ceiling is refused."""
    unit_action_require(actor, Capability.MANAGE_LEGAL, unit)
    if kind not in LegalKind.values:
        raise LegalError(f"未知的法律事务类型：{kind}")
    _money_check(claim_fen, "主张金额")
    _money_check(lawyer_fee_fen, "律师费")
    if claim_fen == 0 and kind != LegalKind.LAWYER_LETTER:
        raise LegalError("请填写主张金额")
    estate = unit.estate
    if (
        kind == LegalKind.SMALL_CLAIM
        and small_claims_eligible(estate=estate, claim_fen=claim_fen) is False
    ):
        limit = small_claims_limit_fen(estate) or 0
        raise LegalError(
            f"主张金额超过本省小额诉讼标准（¥{format_yuan(limit)}），请选择普通诉讼或支付令"
        )
    matter = LegalMatter.objects.create(
        unit=unit,
        case=open_case_of(unit.pk),
        kind=kind,
        claim_fen=claim_fen,
        court_fee_fen=court_fee_estimate(kind=kind, claim_fen=claim_fen),
        lawyer_fee_fen=lawyer_fee_fen,
        court=court.strip()[:128],
        law_firm=law_firm.strip()[:128],
        note=note.strip(),
        prepared_on=on or timezone.localdate(),
        created_by=actor,
    )
    matter.claimed_charges.set(overdue_charge_ids(unit_id=unit.pk, on=matter.prepared_on))
    summary = (
        f"准备{matter.get_kind_display()}：主张 ¥{format_yuan(claim_fen)}，"
        f"预估诉讼费 ¥{format_yuan(matter.court_fee_fen)}"
    )
    case_event_record(
        unit_id=unit.pk, kind="legal_prepared", summary=summary, obj=matter, actor=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=matter,
        estate_id=unit.estate_id,
        after={
            "kind": kind,
            "claim_fen": claim_fen,
            "court_fee_fen": matter.court_fee_fen,
            "lawyer_fee_fen": lawyer_fee_fen,
        },
        note=summary,
    )
    return matter


def overdue_charge_ids(*, unit_id: int, on: dt.date) -> list[int]:
    """The unit's charges overdue on `on` (due before it) with principal outstanding: what a
    legal matter prepared or filed that day claims (one query)."""
    charges = Charge.objects.filter(unit_id=unit_id, due_date__lt=on)
    return list(
        principal_outstanding_by_charge(charges, as_of=on)
        .filter(principal_outstanding_fen__gt=0)
        .order_by("due_date", "pk")
        .values_list("pk", flat=True)
    )


def _legal_hold_reason(matter: LegalMatter) -> str:
    """The reason of the hold a filing puts on the unit; it names the matter, which is how the
    close finds the hold again."""
    return f"{matter.get_kind_display()} #{matter.pk} 已立案"


def _legal_hold(matter: LegalMatter, actor: User | None, on: dt.date) -> None:
    Hold.objects.create(
        unit_id=matter.unit_id,
        case_id=matter.case_id,
        kind=HoldKind.LEGAL,
        starts_on=on,
        ends_on=None,
        reason=_legal_hold_reason(matter),
        created_by=actor,
    )


def _legal_hold_release(matter: LegalMatter, on: dt.date) -> None:
    Hold.objects.filter(
        Q(released_on__isnull=True) | Q(released_on__gt=on),
        unit_id=matter.unit_id,
        kind=HoldKind.LEGAL,
        reason=_legal_hold_reason(matter),
    ).update(released_on=on)


@transaction.atomic
def legal_matter_advance(
    *,
    matter: LegalMatter,
    to_status: str,
    actor: User | None,
    on: dt.date | None = None,
    docket_no: str | None = None,
    court: str | None = None,
    note: str = "",
) -> LegalMatter:
    """Move `matter` one step along LEGAL_TRANSITIONS and date the step (`on`, today by
    default, never before the previous step). Approval needs a manager (APPROVE_COLLECTION);
    the other steps MANAGE_LEGAL. A filing restarts the limitation clock of the charges the
    matter claims (诉讼时效规定 art. 11) and holds the run's escalation (kind legal) until the
    matter closes; the close of a filed matter restarts it again for the same charges (民法典
    art. 195: 有关程序终结时起重新计算) — never for charges that fell due later."""
    capability = (
        Capability.APPROVE_COLLECTION if to_status == S.APPROVED else Capability.MANAGE_LEGAL
    )
    unit_action_require(actor, capability, matter.unit)
    matter = (
        LegalMatter.objects.select_for_update().select_related("unit__estate").get(pk=matter.pk)
    )
    before = matter.status
    if to_status not in LEGAL_TRANSITIONS[matter.kind].get(before, frozenset()):
        raise LegalTransitionError(
            f"{matter.get_kind_display()}当前{matter.get_status_display()}，"
            f"不能改为“{LegalStatus(to_status).label}”"
        )
    if to_status == S.APPROVED and actor is not None and matter.created_by_id == actor.pk:
        raise LegalError("不能审批自己准备的法律事务")
    on = on or timezone.localdate()
    previous = getattr(matter, STATUS_DATE_FIELD[before])
    if previous is not None and on < previous:
        raise LegalError(f"日期不能早于上一步（{previous:%Y-%m-%d}）")
    if to_status == S.FILED and docket_no is not None and not docket_no.strip():
        raise LegalError("请填写案号")
    matter.status = to_status
    setattr(matter, STATUS_DATE_FIELD[to_status], on)
    if to_status == S.APPROVED:
        matter.approved_by = actor
    if docket_no:
        matter.docket_no = docket_no.strip()[:64]
    if court:
        matter.court = court.strip()[:128]
    if note:
        matter.note = f"{matter.note}\n{on:%Y-%m-%d} {note.strip()}".strip()
    matter.credit_referral_eligible = credit_referral_eligible(matter, matter.unit.estate)
    matter.save()

    label = matter.get_kind_display()
    claimed = list(matter.claimed_charges.values_list("pk", flat=True))
    if to_status == S.FILED and matter.kind in FILED_KINDS and not claimed:
        # A matter prepared before claims were recorded claims what is overdue at filing.
        claimed = overdue_charge_ids(unit_id=matter.unit_id, on=on)
        matter.claimed_charges.set(claimed)
    if to_status == S.FILED and matter.kind in FILED_KINDS:
        if claimed:  # a restart without charges would mean the whole unit
            limitation_restart_record(
                unit=matter.unit,
                kind=RestartKind.FILING,
                occurred_on=on,
                description=f"{label}已立案"
                + (f"（{matter.docket_no}）" if matter.docket_no else ""),
                source_type="collection.legalmatter",
                source_id=matter.pk,
                charge_ids=claimed,
            )
        _legal_hold(matter, actor, on)
    if to_status == S.CLOSED and matter.filed_on is not None and matter.kind in FILED_KINDS:
        if claimed:
            limitation_restart_record(
                unit=matter.unit,
                kind=RestartKind.FILING,
                occurred_on=on,
                description=f"{label}程序终结",
                source_type="collection.legalmatter.closed",
                source_id=matter.pk,
                charge_ids=claimed,
            )
        _legal_hold_release(matter, on)
    summary = (
        f"{label}：{LegalStatus(before).label} → {matter.get_status_display()}（{on:%Y-%m-%d}）"
    )
    if note:
        summary += f"，{note.strip()}"
    case_event_record(
        unit_id=matter.unit_id, kind=f"legal_{to_status}", summary=summary, obj=matter, actor=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=matter,
        estate_id=matter.unit.estate_id,
        before={"status": before},
        after={"status": to_status, STATUS_DATE_FIELD[to_status]: on.isoformat()},
        note=summary[:500],
    )
    return matter


@transaction.atomic
def legal_matter_amounts_set(
    *,
    matter: LegalMatter,
    actor: User | None,
    claim_fen: int | None = None,
    court_fee_fen: int | None = None,
    lawyer_fee_fen: int | None = None,
    recovered_fen: int | None = None,
) -> LegalMatter:
    """费用与回收: the claim (the court-fee estimate follows it unless a fee is given — the
    court's notice is the real figure), lawyer fees and the amount recovered."""
    unit_action_require(actor, Capability.MANAGE_LEGAL, matter.unit)
    matter = (
        LegalMatter.objects.select_for_update().select_related("unit__estate").get(pk=matter.pk)
    )
    before = {
        "claim_fen": matter.claim_fen,
        "court_fee_fen": matter.court_fee_fen,
        "lawyer_fee_fen": matter.lawyer_fee_fen,
        "recovered_fen": matter.recovered_fen,
    }
    if claim_fen is not None:
        _money_check(claim_fen, "主张金额")
        matter.claim_fen = claim_fen
        if court_fee_fen is None:
            matter.court_fee_fen = court_fee_estimate(kind=matter.kind, claim_fen=claim_fen)
    for name, value, label in (
        ("court_fee_fen", court_fee_fen, "诉讼费"),
        ("lawyer_fee_fen", lawyer_fee_fen, "律师费"),
        ("recovered_fen", recovered_fen, "已回收金额"),
    ):
        if value is not None:
            _money_check(value, label)
            setattr(matter, name, value)
    matter.credit_referral_eligible = credit_referral_eligible(matter, matter.unit.estate)
    matter.save()
    after = {key: getattr(matter, key) for key in before}
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=matter,
        estate_id=matter.unit.estate_id,
        before=before,
        after=after,
        note=f"更新{matter.get_kind_display()}费用与回收金额",
    )
    if after["recovered_fen"] != before["recovered_fen"]:
        case_event_record(
            unit_id=matter.unit_id,
            kind="legal_recovered",
            summary=f"{matter.get_kind_display()}已回收 ¥{format_yuan(matter.recovered_fen)}",
            obj=matter,
            actor=actor,
        )
    return matter


@transaction.atomic
def legal_matter_evidence_set(
    *, matter: LegalMatter, ticks: dict[str, bool], actor: User | None
) -> LegalMatter:
    """Tick the evidence items staff have collected by hand (the checklist's manual part)."""
    unit_action_require(actor, Capability.MANAGE_LEGAL, matter.unit)
    known = {key for key, _ in EVIDENCE_ITEMS}
    unknown = set(ticks) - known
    if unknown:
        raise LegalError(f"未知的证据项：{'、'.join(sorted(unknown))}")
    matter = LegalMatter.objects.select_for_update().get(pk=matter.pk)
    before = dict(matter.evidence or {})
    matter.evidence = {**before, **{k: bool(v) for k, v in ticks.items()}}
    matter.save(update_fields=["evidence"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=matter,
        estate_id=matter.unit.estate_id,
        before={"evidence": before},
        after={"evidence": matter.evidence},
        note="更新证据清单",
    )
    return matter


def legal_matters_visible_to(user: User) -> QuerySet[LegalMatter]:
    """The legal matters of the units the user sees, newest first."""
    return (
        LegalMatter.objects.filter(unit__in=units_visible_to(user).values("pk"))
        .select_related("unit__estate", "unit__building", "approved_by", "created_by")
        .order_by("-prepared_on", "-pk")
    )

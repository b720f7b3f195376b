"""The demo company's collection history (演示催收): the daily run on a sparse set of past dates
(weekly) so cases climb the ladder, the manager's approvals of lawyer letters and legal steps,
and a few contacts, promises (one kept, one broken), an installment plan, a dispute and a
hardship hold — all through the services, deterministic for the demo's data, without sending
anything (the runs do not dispatch).

Runs after the account history (payments/demo.py): the run reads payments received up to its
own date, so a run on a past date sees the arrears of that day."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from propfee.collection.approvals import case_stage_grant
from propfee.collection.constants import (
    Attitude,
    CaseStatus,
    ContactChannel,
    ContactOutcome,
    HoldKind,
    IssueCategory,
    ReasonCode,
    StageKey,
)
from propfee.collection.contacts import contact_record_create, promise_create
from propfee.collection.holds import hold_create, service_issue_create
from propfee.collection.models import Case, Hold, InstallmentPlan, Promise, ServiceIssue
from propfee.collection.plans import installment_plan_approve, installment_plan_request
from propfee.collection.run import dunning_run
from propfee.core.models import User
from propfee.estates.models import Company, Estate
from propfee.payments.constants import PaymentStatus
from propfee.payments.models import Payment

#: How many weeks back the demo's runs start: one run a week, up to the demo's date.
DEMO_RUN_WEEKS = 16
#: Stage approvals a manager grants after each run (律师函, 法律程序), highest priority first.
_APPROVALS_PER_RUN = 3
#: The runs of the last weeks hold one case at each early stage (reminder, phone, notice), so
#: every stage has a case at the end whatever the month's due dates.
_HOLD_WEEKS = 10


@dataclass
class DemoCollection:
    """What `demo_collection_load` did."""

    runs: int = 0
    approvals: int = 0
    contacts: int = 0
    promises: int = 0
    plans: int = 0
    issues: int = 0
    holds: int = 0
    stages: dict[str, int] = field(default_factory=dict)

    @property
    def cases(self) -> int:
        return sum(self.stages.values())


class _Demo:
    def __init__(self, company: Company, as_of: dt.date) -> None:
        self.company = company
        self.as_of = as_of
        self.result = DemoCollection()
        users = {u.username: u for u in User.objects.filter(company=company)}
        # The estate's manager decides, as for the demo's waivers; the admin where none is scoped.
        self.approver = {
            estate.pk: users.get("manager") if estate.code == "DEMO" else users.get("admin")
            for estate in Estate.objects.filter(company=company)
        }

    def open_cases(self, stage: str = "") -> QuerySet[Case]:
        cases = Case.objects.filter(company=self.company, status=CaseStatus.OPEN)
        if stage:
            cases = cases.filter(stage=stage)
        return cases.select_related("unit").order_by("-priority", "unit__code")

    def free(self, stage: str, day: dt.date) -> Case | None:
        """The first open case at `stage` with no hold, promise or plan in force whose owner
        does not pay before the demo's date."""
        held = (
            Hold.objects.filter(unit__estate__company=self.company, starts_on__lte=day)
            .exclude(ends_on__lt=day)
            .values("unit_id")
        )
        # Owners who pay before the demo's date would close the case: not them.
        paying = Payment.objects.filter(
            unit__estate__company=self.company, received_on__gt=day, received_on__lte=self.as_of
        ).values("unit_id")
        return self.open_cases(stage).exclude(unit_id__in=held).exclude(unit_id__in=paying).first()

    def who(self, case: Case) -> User | None:
        return case.collector or self.approver.get(case.estate_id)

    def approve(self) -> None:
        for case in self.open_cases().exclude(pending_stage="")[:_APPROVALS_PER_RUN]:
            case_stage_grant(
                case=case, actor=self.approver.get(case.estate_id), note="欠费金额与证据已核实"
            )
            self.result.approvals += 1

    def hold_early_stages(self, day: dt.date) -> None:
        """One case held at each of reminder (分期), phone (服务争议) and notice (经济困难)."""
        if not InstallmentPlan.objects.filter(unit__estate__company=self.company).exists():
            case = self.free(StageKey.REMINDER, day)
            if case is not None:
                actor = self.who(case)
                plan = installment_plan_request(
                    unit=case.unit,
                    total_fen=case.principal_overdue_fen,
                    count=6,
                    first_due_on=max(self.as_of, timezone.localdate()) + dt.timedelta(days=10),
                    reason="业主来电说明近期资金周转困难，申请分六期缴清欠费",
                    actor=actor,
                )
                installment_plan_approve(
                    plan=plan, actor=self.approver[case.estate_id], note="同意分期", on=day
                )
                self.result.plans += 1
        if not ServiceIssue.objects.filter(unit__estate__company=self.company).exists():
            case = self.free(StageKey.PHONE, day)
            if case is not None:
                service_issue_create(
                    unit=case.unit,
                    category=IssueCategory.REPAIR,
                    description="业主反映卫生间楼上渗水，多次报修未解决，解决前暂不缴费",
                    department="工程部",
                    promised_on=self.as_of + dt.timedelta(days=14),
                    is_dispute=True,
                    actor=self.who(case),
                    on=day,
                )
                self.result.issues += 1
        if not Hold.objects.filter(
            unit__estate__company=self.company, kind=HoldKind.HARDSHIP
        ).exists():
            case = self.free(StageKey.NOTICE, day)
            if case is not None:
                hold_create(
                    unit=case.unit,
                    kind=HoldKind.HARDSHIP,
                    starts_on=day,
                    ends_on=self.as_of + dt.timedelta(days=30),
                    reason="业主住院治疗，家属申请暂缓催收一个月",
                    actor=self.approver[case.estate_id],
                )
                self.result.holds += 1

    def promises(self, day: dt.date) -> None:
        """A promise the owner keeps (the payment the history already has) and one broken."""
        promised = Promise.objects.filter(case__company=self.company)
        if not promised.exists():
            cases = {c.unit_id: c for c in self.open_cases(StageKey.VISIT)[:200]}
            payment = (
                Payment.objects.filter(
                    unit_id__in=list(cases),
                    status=PaymentStatus.RECORDED,
                    received_on__gt=day,
                    received_on__lte=day + dt.timedelta(days=14),
                )
                .order_by("received_on", "unit__code")
                .first()
            )
            if payment is not None:
                case = cases[payment.unit_id]
                promise_create(
                    case=case,
                    amount_fen=min(payment.amount_fen, case.principal_overdue_fen),
                    promised_on=payment.received_on,
                    actor=self.who(case),
                    on=day,
                )
                self.result.promises += 1
        elif promised.count() == 1:
            broken = self.free(StageKey.FINAL_DEMAND, day)
            if broken is not None:
                promise_create(
                    case=broken,
                    amount_fen=broken.principal_overdue_fen,
                    promised_on=day + dt.timedelta(days=7),
                    actor=self.who(broken),
                    on=day,
                )
                self.result.promises += 1

    def call_time(self) -> dt.datetime:
        """10:00 on the last day (the day before when that is still ahead): within the contact
        window whatever the hour the demo is loaded."""
        at = timezone.make_aware(dt.datetime.combine(self.as_of, dt.time(10, 0)))
        return at if at <= timezone.now() else at - dt.timedelta(days=1)

    def contacts(self) -> None:
        """A few calls recorded on the last day: answered with a reason, unanswered, hardship."""
        calls = [
            (ContactOutcome.ANSWERED, Attitude.EVASIVE, ReasonCode.SERVICE, "业主称物业服务不到位"),
            (ContactOutcome.NO_ANSWER, "", "", "电话无人接听，改日再拨"),
            (ContactOutcome.HARDSHIP, Attitude.COOPERATIVE, ReasonCode.HARDSHIP, "业主失业"),
        ]
        cases = list(self.open_cases(StageKey.FINAL_DEMAND)[: len(calls)])
        for case, (outcome, attitude, reason, note) in zip(cases, calls, strict=False):
            contact_record_create(
                case=case,
                actor=self.who(case),
                channel=ContactChannel.PHONE,
                outcome=outcome,
                attitude=attitude,
                reason_code=reason,
                note=note,
                contacted_at=self.call_time(),
            )
            self.result.contacts += 1


@transaction.atomic
def demo_collection_load(
    *, company: Company, as_of: dt.date, weeks: int = DEMO_RUN_WEEKS
) -> DemoCollection:
    """Run the collection process for `company` once a week for `weeks` weeks up to `as_of`,
    with the demo's approvals, contacts, promises, plan, dispute and hold in between; the
    open cases by stage at the end in `stages`."""
    demo = _Demo(company, as_of)
    days = [as_of - dt.timedelta(weeks=w) for w in range(weeks, -1, -1)]
    for i, day in enumerate(days):
        dunning_run(company=company, as_of=day, actor=None, dispatch=False)
        demo.result.runs += 1
        if day == as_of:
            break
        demo.approve()
        if i >= len(days) - 1 - _HOLD_WEEKS:
            demo.hold_early_stages(day)
        if i >= len(days) // 2:
            demo.promises(day)
    demo.contacts()
    demo.result.stages = dict(Counter(demo.open_cases().values_list("stage", flat=True).order_by()))
    return demo.result

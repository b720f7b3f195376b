"""The case page's timeline (案件动态): every source about the unit on one list, newest first,
with its summary, actor and link; the case's own events without the lines they repeat; a
fixed number of queries whatever the length of the history; pages of older lines
(显示更早的记录)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from propfee.billing.models import Charge
from propfee.collection.constants import (
    HoldKind,
    IssueCategory,
    LegalKind,
    LegalStatus,
    PlanStatus,
    RestartKind,
)
from propfee.collection.contacts import contact_record_create
from propfee.collection.models import (
    CaseEvent,
    Hold,
    InstallmentPlan,
    LegalMatter,
    LimitationRestart,
    ServiceIssue,
)
from propfee.collection.timeline import Kind, case_timeline
from propfee.core.roles import Role
from propfee.documents.constants import DeliveryMethod, DocumentKind
from propfee.documents.models import DeliveryEvidence, Document
from propfee.ledger.constants import Component
from propfee.ledger.models import Waiver
from propfee.messaging.constants import Channel, MessageStatus
from propfee.messaging.models import Message
from propfee.payments.constants import PaymentChannel
from propfee.payments.services import payment_record, payment_reverse

pytest.register_assert_rewrite("tests.collection.workbench_fixtures")
from tests.collection.workbench_fixtures import TODAY  # noqa: E402

pytest_plugins = ["tests.collection.workbench_fixtures"]

D = dt.date


def at(day: int, hour: int, month: int = 4) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, month, day, hour, 0))


def _party(case):
    return case.unit.occupancies.get().party


def _message(case, when, n=0, **kwargs):
    kwargs.setdefault("status", MessageStatus.DELIVERED)
    return Message.objects.create(
        company=case.company,
        unit=case.unit,
        party=_party(case),
        recipient="10012345678",
        channel=Channel.SMS,
        body=kwargs.pop("body", f"【物业】尊敬的业主，您的物业费尚未缴纳 {n}"),
        key=f"t-{case.pk}-{n}",
        queued_at=when,
        **kwargs,
    )


def _document(case, when, n=0):
    return Document.objects.create(
        kind=DocumentKind.NOTICE,
        number=f"TZ-{n:04d}",
        estate=case.estate,
        unit=case.unit,
        title="书面催缴通知书",
        sha256="0" * 64,
        amount_fen=20000,
        deadline=D(2026, 4, 30),
        text=f"催缴通知书全文 {n}",
        created_at=when,
    )


@pytest.fixture
def finance(make_user, estate):
    return make_user(Role.FINANCE, username="caiwu1", display_name="钱财务", estates=[estate])


@pytest.fixture
def history(make_case, wb_collector, wb_manager, finance):
    """A case (units billed January and February) with one line of every source, each on its
    own day of April 2026 (days 1 … 14), and the case's own stage event."""
    case = make_case("1503", wb_collector, phone="10012345678")
    case.unit.code  # noqa: B018 - loaded like the case page loads it
    charge = Charge.objects.filter(unit=case.unit).order_by("period_start").first()
    payment = payment_record(
        unit=case.unit,
        amount_fen=5000,
        received_on=D(2026, 4, 2),
        channel=PaymentChannel.BANK_TRANSFER,
        reference="BANK-TL-1",
        actor=finance,
    )
    payment_reverse(payment=payment, actor=finance, reason="银行退票")
    type(payment).objects.filter(pk=payment.pk).update(reversed_at=at(3, 9))
    Waiver.objects.create(
        charge=charge,
        component=Component.PENALTY,
        amount_fen=150,
        effective_on=D(2026, 4, 4),
        reason="经济困难减免滞纳金",
        approved_by=wb_manager,
        created_at=at(4, 9),
    )
    _message(case, at(5, 9), sent_at=at(5, 9), delivered_at=at(5, 10))
    contact = contact_record_create(
        case=case,
        actor=wb_collector,
        channel="phone",
        outcome="no_answer",
        note="电话无人接听",
    )
    type(contact).objects.filter(pk=contact.pk).update(contacted_at=at(6, 9))
    document = _document(case, at(7, 9))
    DeliveryEvidence.objects.create(
        document=document,
        method=DeliveryMethod.EMS,
        delivered_on=D(2026, 4, 8),
        tracking_no="EMS1234567890",
        recorded_by=wb_collector,
    )
    contact2 = contact_record_create(
        case=case,
        actor=wb_collector,
        channel="phone",
        outcome="promised",
        promise_amount_fen=20000,
        promise_on=D(2026, 4, 25),
    )
    type(contact2).objects.filter(pk=contact2.pk).update(contacted_at=at(9, 8))
    contact2.promises.update(created_at=at(9, 9))
    InstallmentPlan.objects.create(
        case=case,
        unit=case.unit,
        status=PlanStatus.REQUESTED,
        total_fen=20000,
        reason="业主失业，申请分四期",
        requested_by=wb_collector,
        requested_at=at(10, 9),
    )
    Hold.objects.create(
        unit=case.unit,
        case=case,
        kind=HoldKind.HARDSHIP,
        starts_on=D(2026, 4, 11),
        ends_on=D(2026, 5, 11),
        reason="家中有病人",
        created_by=wb_manager,
        created_at=at(11, 9),
    )
    issue = ServiceIssue.objects.create(
        unit=case.unit,
        case=case,
        category=IssueCategory.REPAIR,
        description="楼顶漏水未修",
        department="工程部",
        is_dispute=True,
        raised_by=wb_collector,
        created_at=at(12, 9),
    )
    matter = LegalMatter.objects.create(
        unit=case.unit,
        case=case,
        kind=LegalKind.PAYMENT_ORDER,
        status=LegalStatus.FILED,
        claim_fen=20000,
        prepared_on=D(2026, 3, 20),
        approved_on=D(2026, 3, 25),
        approved_by=wb_manager,
        filed_on=D(2026, 4, 13),
        docket_no="(2026)沪0101民督12号",
        created_by=wb_manager,
    )
    LimitationRestart.objects.create(
        unit=case.unit,
        kind=RestartKind.DEMAND,
        occurred_on=D(2026, 4, 14),
        description="催缴通知书 EMS 签收",
        source_type="documents.deliveryevidence",
        source_id=1,
    )
    CaseEvent.objects.create(
        case=case, kind="stage", summary="进入“电话沟通”阶段", happened_at=at(14, 12)
    )
    # A service's own line that repeats the issue's row, and one about its later status.
    CaseEvent.objects.create(
        case=case,
        kind="issue_created",
        summary="登记服务问题",
        object_type="collection.serviceissue",
        object_id=issue.pk,
        happened_at=at(12, 9),
    )
    CaseEvent.objects.create(
        case=case,
        kind="legal_filed",
        summary="支付令已立案",
        object_type="collection.legalmatter",
        object_id=matter.pk,
        happened_at=at(13, 15),
    )
    CaseEvent.objects.filter(case=case, kind__in=["contact", "promise", "task_created"]).delete()
    return case


def test_every_source_appears_once_newest_first_with_its_summary(history):
    page = case_timeline(case=history, limit=100)
    lines = [(line.kind, line.summary) for line in page.lines]
    assert page.next_before is None
    assert [line.at for line in page.lines] == sorted((x.at for x in page.lines), reverse=True)
    kinds = [kind for kind, _ in lines]
    assert kinds == [
        Kind.EVENT,  # 14 Apr 12:00 stage
        Kind.RESTART,  # 14 Apr
        Kind.LEGAL,  # filed 13 Apr
        Kind.ISSUE,  # 12 Apr
        Kind.HOLD,  # 11 Apr
        Kind.PLAN,  # 10 Apr
        Kind.PROMISE,  # 9 Apr 09:00
        Kind.CONTACT,  # 9 Apr 08:00 (the promise's contact)
        Kind.DELIVERY,  # 8 Apr
        Kind.DOCUMENT,  # 7 Apr
        Kind.CONTACT,  # 6 Apr
        Kind.MESSAGE,  # 5 Apr
        Kind.WAIVER,  # 4 Apr
        Kind.REVERSAL,  # 3 Apr
        Kind.PAYMENT,  # 2 Apr
        Kind.LEGAL,  # approved 25 Mar
        Kind.LEGAL,  # prepared 20 Mar
        Kind.CHARGE,  # period 2026-02
        Kind.CHARGE,  # period 2026-01
    ]
    text = dict(enumerate(s for _, s in lines))
    assert text[0] == "进入“电话沟通”阶段"
    assert text[1] == "催告送达：催缴通知书 EMS 签收"
    assert text[2] == "支付令：立案（(2026)沪0101民督12号）"
    assert text[3] == "维修（工程部，待处理）：楼顶漏水未修；业主因此拒缴"
    assert text[4] == "经济困难：2026-04-11 至 2026-05-11，家中有病人"
    assert text[5] == "申请分期 ¥200.00（待审批）：业主失业，申请分四期"
    assert text[6] == "承诺于 2026-04-25 缴费 ¥200.00（待兑现）"
    assert text[7] == "电话：承诺缴费"
    assert text[8] == "催缴通知书 TZ-0000 已EMS邮寄（EMS1234567890）"
    assert text[9] == "催缴通知书 TZ-0000：书面催缴通知书，金额 ¥200.00，缴费期限 2026-04-30"
    assert text[10] == "电话：未接"
    assert (
        text[11]
        == "短信 · 已送达 · 【物业】尊敬的业主，您的物业费尚未缴纳 0（送达 2026-04-05 10:00）"
    )
    assert text[12] == "减免 物业费 2026-01 违约金 ¥1.50：经济困难减免滞纳金"
    assert text[13].startswith("冲销 2026-04-02 收款 ¥50.00（收据号 ") and "银行退票" in text[13]
    assert text[14].startswith("收款 ¥50.00（银行转账，收据号 ") and text[14].endswith("，已冲销")
    assert text[15] == "支付令：审批通过"
    assert text[16] == "支付令：准备，主张金额 ¥200.00"
    assert text[17] == "2026-02 应收 ¥100.00（物业费 ¥100.00），应缴日期 2026-02-28"
    assert text[18] == "2026-01 应收 ¥100.00（物业费 ¥100.00），应缴日期 2026-01-31"
    # The service's line repeating the issue's row is not shown twice; the legal step event
    # is the matter's own dated step.
    assert "登记服务问题" not in text.values() and "支付令已立案" not in text.values()


def test_lines_carry_actor_link_and_the_exact_text(history, wb_collector, wb_manager):
    lines = case_timeline(case=history, limit=100).lines
    by_kind = {}
    for line in lines:
        by_kind.setdefault(line.kind, line)
    message = by_kind[Kind.MESSAGE]
    assert message.detail == "【物业】尊敬的业主，您的物业费尚未缴纳 0"
    assert message.url == f"/messaging/{Message.objects.get().pk}/"
    assert by_kind[Kind.CONTACT].actor == wb_collector
    assert by_kind[Kind.CONTACT].contact is not None
    assert by_kind[Kind.HOLD].actor == wb_manager
    assert by_kind[Kind.ISSUE].url.startswith("/collection/issues/")
    assert by_kind[Kind.LEGAL].url.startswith("/collection/legal/")
    assert by_kind[Kind.DOCUMENT].url == f"/documents/{Document.objects.get().pk}/file/"
    assert by_kind[Kind.CHARGE].date_only and by_kind[Kind.CHARGE].url.startswith("/units/")
    assert not by_kind[Kind.CONTACT].date_only


def _fill(case, n: int, wb_collector) -> None:
    """`n` rows of every source on the case's unit, one a day back from March 2026."""
    fee_item = Charge.objects.filter(unit=case.unit).first().fee_item
    base = at(1, 9, month=3)
    days = [base - dt.timedelta(days=i) for i in range(n)]
    Charge.objects.bulk_create(
        Charge(
            unit=case.unit,
            fee_item=fee_item,
            period_start=D(2020 + i // 12, i % 12 + 1, 1),
            period_end=D(2020 + i // 12, i % 12 + 1, 28),
            due_date=D(2020 + i // 12, i % 12 + 1, 28),
            principal_fen=10000,
        )
        for i in range(n)
    )
    from propfee.payments.models import Payment

    Payment.objects.bulk_create(
        Payment(
            unit=case.unit,
            amount_fen=100,
            received_on=d.date(),
            channel=PaymentChannel.CASH,
            reference=f"F{case.pk}-{i}",
            receipt_no=f"F{case.pk}-{i}",
            status="reversed",
            reversed_at=d,
            reverse_reason="错账",
        )
        for i, d in enumerate(days)
    )
    charge = Charge.objects.filter(unit=case.unit).first()
    Waiver.objects.bulk_create(
        Waiver(
            charge=charge,
            component=Component.PENALTY,
            amount_fen=1,
            effective_on=d.date(),
            reason="减免",
            created_at=d,
        )
        for d in days
    )
    for i, d in enumerate(days):
        _message(case, d, n=1000 + i)
        document = _document(case, d, n=i)
        DeliveryEvidence.objects.create(
            document=document,
            method=DeliveryMethod.ELECTRONIC,
            reference=f"R{i}",
            delivered_on=d.date(),
        )
        contact = contact_record_create(
            case=case, actor=wb_collector, channel="phone", outcome="no_answer"
        )
        type(contact).objects.filter(pk=contact.pk).update(contacted_at=d)
        InstallmentPlan.objects.create(
            case=case, unit=case.unit, total_fen=100, reason="分期", requested_at=d
        )
        Hold.objects.create(
            unit=case.unit, case=case, kind=HoldKind.MANUAL, starts_on=d.date(), created_at=d
        )
        ServiceIssue.objects.create(
            unit=case.unit,
            category=IssueCategory.REPAIR,
            description="漏水",
            department="工程部",
            created_at=d,
        )
        LegalMatter.objects.create(
            unit=case.unit, kind=LegalKind.LAWYER_LETTER, prepared_on=d.date()
        )
        LimitationRestart.objects.create(
            unit=case.unit,
            kind=RestartKind.DEMAND,
            occurred_on=d.date(),
            description="送达",
            source_type="t",
            source_id=i,
        )
    from propfee.collection.contacts import promise_create

    promise_create(case=case, amount_fen=100, promised_on=TODAY, actor=wb_collector)


#: One query per source: events, charges (with its periods as a subquery), payments,
#: reversals, waivers, messages, contacts (+ their attachments), documents, deliveries,
#: promises, plans, holds, issues, legal matters, limitation restarts.
TIMELINE_QUERIES = 16


@pytest.mark.parametrize("n", [2, 20])
def test_query_count_is_fixed_whatever_the_history(
    n, make_case, wb_collector, django_assert_num_queries
):
    case = make_case("1503", wb_collector)
    case.unit.code  # noqa: B018
    _fill(case, n, wb_collector)
    with django_assert_num_queries(TIMELINE_QUERIES):
        page = case_timeline(case=case, limit=500)
    counts: dict[str, int] = {}
    for line in page.lines:
        counts[line.kind] = counts.get(line.kind, 0) + 1
    assert counts[Kind.CHARGE] == n + 2  # plus January and February
    for kind in (
        Kind.PAYMENT,
        Kind.REVERSAL,
        Kind.WAIVER,
        Kind.MESSAGE,
        Kind.CONTACT,
        Kind.DOCUMENT,
        Kind.DELIVERY,
        Kind.PLAN,
        Kind.HOLD,
        Kind.ISSUE,
        Kind.LEGAL,
        Kind.RESTART,
    ):
        assert counts[kind] == n, kind
    assert counts[Kind.PROMISE] == 1


def test_pages_of_older_lines_join_up_without_gaps_or_repeats(make_case, wb_collector):
    case = make_case("1503", wb_collector)
    case.unit.code  # noqa: B018
    _fill(case, 20, wb_collector)
    everything = case_timeline(case=case, limit=1000).lines
    seen = []
    before = None
    for _ in range(100):
        page = case_timeline(case=case, limit=15, before=before)
        assert page.lines, "a page before the end is never empty"
        assert all(before is None or line.at < before for line in page.lines)
        seen.extend(page.lines)
        if page.next_before is None:
            break
        before = page.next_before
    key = [(line.kind, line.at, line.summary, line.order) for line in seen]
    assert key == [(line.kind, line.at, line.summary, line.order) for line in everything]


def test_case_page_shows_the_timeline_and_loads_older_lines(client, history, wb_collector):
    client.force_login(wb_collector)
    html = client.get(f"/collection/cases/{history.pk}/").content.decode()
    assert "楼顶漏水未修" in html and "EMS1234567890" in html
    assert "【物业】尊敬的业主，您的物业费尚未缴纳 0" in html  # the exact text, on expanding
    assert 'data-kind="charge"' in html and 'data-kind="legal"' in html
    first = case_timeline(case=history, limit=5)
    response = client.get(
        f"/collection/cases/{history.pk}/timeline/",
        {"before": first.next_before.isoformat()},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "电话：未接" in fragment and "进入“电话沟通”阶段" not in fragment

"""Holds (暂停催收) and service issues (物业服务问题跟进表): the services, the run's selector
and the overdue view."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from propfee.collection.constants import HoldKind, IssueCategory, IssueStatus
from propfee.collection.holds import (
    HoldError,
    IssueTransitionError,
    active_holds,
    hold_create,
    hold_release,
    holds_releasable,
    issues_overdue,
    service_issue_create,
    service_issue_resolve,
    service_issue_status_set,
    service_issues_visible_to,
)
from propfee.collection.models import Hold
from propfee.core.models import AuditEntry
from propfee.core.roles import PermissionDenied, Role

D = dt.date


@pytest.fixture
def boss(make_user, estate):
    return make_user(Role.MANAGER, username="jingli", estates=[estate])


def test_a_manual_hold_runs_to_its_end_date(unit, other_unit, boss, django_assert_num_queries):
    hold = hold_create(
        unit=unit,
        kind=HoldKind.MANUAL,
        starts_on=D(2026, 3, 1),
        ends_on=D(2026, 3, 31),
        reason="业主住院，家属请求暂缓",
        actor=boss,
    )
    with django_assert_num_queries(1):
        holds = active_holds(unit_ids=[unit.pk, other_unit.pk], on=D(2026, 3, 31))
    assert [(h.hold_id, h.kind) for h in holds[unit.pk]] == [(hold.pk, HoldKind.MANUAL)]
    assert other_unit.pk not in holds
    assert active_holds(unit_ids=[unit.pk], on=D(2026, 4, 1)) == {}
    assert AuditEntry.objects.filter(object_type="collection.hold", object_id=str(hold.pk)).exists()


def test_a_manual_hold_needs_an_end_date_and_a_manager(unit, boss, collector):
    with pytest.raises(HoldError, match="结束日期"):
        hold_create(
            unit=unit,
            kind=HoldKind.MANUAL,
            starts_on=D(2026, 3, 1),
            ends_on=None,
            reason="x",
            actor=boss,
        )
    with pytest.raises(PermissionDenied):
        hold_create(
            unit=unit,
            kind=HoldKind.LEGAL,
            starts_on=D(2026, 3, 1),
            ends_on=None,
            reason="x",
            actor=collector,
        )


def test_release_ends_the_hold_that_day(unit, boss):
    hold = hold_create(
        unit=unit,
        kind=HoldKind.LEGAL,
        starts_on=D(2026, 3, 1),
        ends_on=None,
        reason="已起诉",
        actor=boss,
    )
    hold_release(hold=hold, actor=boss, on=D(2026, 3, 10), reason="已和解")
    assert active_holds(unit_ids=[unit.pk], on=D(2026, 3, 9))[unit.pk][0].hold_id == hold.pk
    assert active_holds(unit_ids=[unit.pk], on=D(2026, 3, 10)) == {}
    with pytest.raises(HoldError, match="已解除"):
        hold_release(hold=hold, actor=boss, on=D(2026, 3, 11))


def test_a_dispute_holds_until_resolved(unit, collector):
    issue = service_issue_create(
        unit=unit,
        category=IssueCategory.REPAIR,
        description="楼顶渗水三个月未修",
        department="工程部",
        promised_on=D(2026, 3, 20),
        is_dispute=True,
        actor=collector,
        on=D(2026, 3, 1),
    )
    holds = active_holds(unit_ids=[unit.pk], on=D(2026, 3, 5))[unit.pk]
    assert [(h.kind, h.issue_id) for h in holds] == [(HoldKind.DISPUTE, issue.pk)]
    service_issue_status_set(issue=issue, status=IssueStatus.IN_PROGRESS, actor=collector)
    resolved = service_issue_resolve(
        issue=issue, resolution="已更换防水层并回访", actor=collector, resolved_on=D(2026, 3, 18)
    )
    assert (resolved.status, resolved.resolved_on) == (IssueStatus.RESOLVED, D(2026, 3, 18))
    assert active_holds(unit_ids=[unit.pk], on=D(2026, 3, 18)) == {}
    # The owner is not satisfied: back to 处理中 puts the dispute's hold back.
    service_issue_status_set(issue=issue, status=IssueStatus.IN_PROGRESS, actor=collector)
    assert Hold.objects.filter(issue=issue, released_on__isnull=True).count() == 1


def test_an_issue_that_is_not_a_dispute_holds_nothing(unit, collector):
    service_issue_create(
        unit=unit,
        category=IssueCategory.CLEANING,
        description="楼道保洁不及时",
        department="保洁部",
        promised_on=None,
        is_dispute=False,
        actor=collector,
    )
    assert not Hold.objects.exists()


def test_the_pipeline_refuses_other_moves(unit, collector):
    issue = service_issue_create(
        unit=unit,
        category=IssueCategory.NOISE,
        description="夜间施工噪音",
        department="客服部",
        promised_on=None,
        is_dispute=False,
        actor=collector,
    )
    with pytest.raises(IssueTransitionError):
        service_issue_status_set(issue=issue, status=IssueStatus.CLOSED, actor=collector)
    with pytest.raises(IssueTransitionError, match="处理结果"):
        service_issue_status_set(issue=issue, status=IssueStatus.RESOLVED, actor=collector)


def test_overdue_resolutions(unit, other_unit, collector, admin_user):
    late = service_issue_create(
        unit=unit,
        category=IssueCategory.REPAIR,
        description="电梯异响",
        department="工程部",
        promised_on=D(2026, 3, 10),
        is_dispute=False,
        actor=collector,
        on=D(2026, 3, 1),
    )
    service_issue_create(
        unit=other_unit,
        category=IssueCategory.REPAIR,
        description="门禁故障",
        department="工程部",
        promised_on=D(2026, 3, 10),
        is_dispute=False,
        actor=admin_user,
        on=D(2026, 3, 1),
    )
    mine = service_issues_visible_to(collector)
    assert list(issues_overdue(mine, on=D(2026, 3, 11))) == [late]
    assert list(issues_overdue(mine, on=D(2026, 3, 10))) == []
    assert issues_overdue(service_issues_visible_to(admin_user), on=D(2026, 3, 11)).count() == 2


# --- pages -----------------------------------------------------------------------------------


def test_issue_pages_register_resolve_and_filter_overdue(client, unit, collector):
    from django.urls import reverse

    client.force_login(collector)
    response = client.post(
        reverse("collection:issue_new"),
        {
            "unit": unit.code,
            "category": IssueCategory.REPAIR,
            "description": "地下车库漏水",
            "department": "工程部",
            "promised_on": "2099-01-01",
            "is_dispute": "on",
        },
        follow=True,
    )
    assert "已登记服务问题" in response.content.decode()
    issue = unit.service_issues.get()
    assert issue.is_dispute and Hold.objects.filter(issue=issue, kind=HoldKind.DISPUTE).exists()
    url = reverse("collection:issue_detail", args=[issue.pk])
    client.post(url, {"resolve-resolution": "已修复并回访", "resolve-resolved_on": "2026-03-18"})
    issue.refresh_from_db()
    assert issue.status == IssueStatus.RESOLVED
    assert "已修复并回访" in client.get(url).content.decode()
    # A late one shows under 逾期未解决.
    late = service_issue_create(
        unit=unit,
        category=IssueCategory.SECURITY,
        description="门岗夜间无人",
        department="安保部",
        promised_on=None,
        is_dispute=False,
        actor=collector,
    )
    type(late).objects.filter(pk=late.pk).update(promised_on=D(2020, 1, 1))
    page = client.get(reverse("collection:issue_list") + "?overdue=on").content.decode()
    assert "门岗夜间无人" in page and "地下车库漏水" not in page
    export = client.get(reverse("collection:issue_list") + "?overdue=on&export=xlsx")
    assert export.status_code == 200


def test_only_managers_create_and_release_holds(client, unit, collector, boss):
    from django.urls import reverse

    client.force_login(collector)
    assert client.get(reverse("collection:hold_new")).status_code == 403
    client.force_login(boss)
    data = {
        "unit": unit.code,
        "kind": HoldKind.MANUAL,
        "starts_on": timezone.localdate().isoformat(),
        "ends_on": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        "reason": "业主出国，回国后处理",
    }
    client.post(reverse("collection:hold_new"), data)
    assert not Hold.objects.exists()  # the confirmation first
    client.post(reverse("collection:hold_new"), {**data, "confirm": "1"})
    hold = Hold.objects.get()
    assert hold.reason == "业主出国，回国后处理"
    page = client.get(reverse("collection:hold_list")).content.decode()
    assert "业主出国，回国后处理" in page
    release = reverse("collection:hold_release", args=[hold.pk])
    assert f'href="{release}"' in page
    client.post(release, {"note": "业主已回国", "confirm": "1"})
    hold.refresh_from_db()
    assert hold.released_on is not None


# --- which holds a person may release ----------------------------------------------------------


def _dispute_hold(unit, collector) -> Hold:
    issue = service_issue_create(
        unit=unit,
        category=IssueCategory.REPAIR,
        description="楼顶渗水三个月未修",
        department="工程部",
        promised_on=D(2026, 3, 20),
        is_dispute=True,
        actor=collector,
        on=D(2026, 3, 1),
    )
    return Hold.objects.get(issue=issue)


@pytest.mark.parametrize("kind", [HoldKind.PROMISE, HoldKind.INSTALLMENT, HoldKind.DISPUTE])
def test_a_promise_installment_or_dispute_hold_is_not_released_by_hand(unit, boss, collector, kind):
    if kind == HoldKind.DISPUTE:
        hold = _dispute_hold(unit, collector)
    else:  # as promise_create and installment_plan_approve write them
        hold = Hold.objects.create(
            unit=unit, kind=kind, starts_on=D(2026, 3, 1), ends_on=D(2026, 4, 30), reason="承诺"
        )
    with pytest.raises(HoldError, match="自动结束，不能手工解除"):
        hold_release(hold=hold, actor=boss, on=D(2026, 3, 10))
    hold.refresh_from_db()
    assert hold.released_on is None
    assert not Hold.objects.filter(holds_releasable(D(2026, 3, 10)), pk=hold.pk).exists()


def test_an_ended_hold_is_not_released(unit, boss):
    hold = hold_create(
        unit=unit,
        kind=HoldKind.MANUAL,
        starts_on=D(2026, 3, 1),
        ends_on=D(2026, 3, 31),
        reason="业主出国",
        actor=boss,
    )
    assert Hold.objects.filter(holds_releasable(D(2026, 3, 31)), pk=hold.pk).exists()
    with pytest.raises(HoldError, match="已于 2026-03-31 到期结束"):
        hold_release(hold=hold, actor=boss, on=D(2026, 4, 1))
    assert not Hold.objects.filter(holds_releasable(D(2026, 4, 1)), pk=hold.pk).exists()


def test_the_page_offers_release_only_where_the_service_allows_it(client, unit, boss, collector):
    from django.urls import reverse

    today = timezone.localdate()
    manual = hold_create(
        unit=unit,
        kind=HoldKind.MANUAL,
        starts_on=today,
        ends_on=today + dt.timedelta(days=30),
        reason="业主出国",
        actor=boss,
    )
    dispute = _dispute_hold(unit, collector)
    client.force_login(boss)
    page = client.get(reverse("collection:hold_list")).content.decode()
    assert f'href="{reverse("collection:hold_release", args=[manual.pk])}"' in page
    assert f'href="{reverse("collection:hold_release", args=[dispute.pk])}"' not in page
    # A post that goes around the page is refused by the service.
    url = reverse("collection:hold_release", args=[dispute.pk])
    response = client.post(url, {"note": "绕过页面", "confirm": "1"})
    assert response.status_code == 200
    assert "自动结束，不能手工解除" in response.content.decode()
    dispute.refresh_from_db()
    assert dispute.released_on is None

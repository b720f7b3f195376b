"""A manager's manual escalation and de-escalation of a case (人工升级/降级): one stage of the
policy's ladder at a time, up into a stage that needs approval only by the run's approval
request, with the reason on the timeline and in the audit log; managers only; a confirmation
page before anything changes."""

from __future__ import annotations

import pytest

from propfee.collection.approvals import case_stage_grant
from propfee.collection.constants import CaseStatus, StageKey, TaskKind, TaskStatus
from propfee.collection.escalation import (
    EscalationError,
    case_stage_move,
    case_stage_move_plan,
)
from propfee.collection.models import Action, CaseEvent, Task
from propfee.collection.run.plan import APPROVAL_STEP
from propfee.collection.services import DunningError, case_stage_approve
from propfee.core.models import AuditAction, AuditEntry
from propfee.core.roles import PermissionDenied, Role

pytest.register_assert_rewrite("tests.collection.workbench_fixtures")
from tests.collection.workbench_fixtures import TODAY  # noqa: E402

pytest_plugins = ["tests.collection.workbench_fixtures"]


@pytest.fixture
def case(make_case, wb_collector, policies):
    return make_case("1503", wb_collector, stage=StageKey.PHONE)


def test_up_moves_one_stage_with_the_reason_on_timeline_and_audit(case, wb_manager):
    moved = case_stage_move(case=case, direction="up", reason="业主明确拒缴", actor=wb_manager)
    case.refresh_from_db()
    assert moved.stage == case.stage == StageKey.NOTICE  # phone → notice, never further
    assert case.stage_entered_on == TODAY and case.stage_last_on == TODAY
    assert case.policy_version is not None and case.policy_version.policy.is_default
    event = CaseEvent.objects.get(case=case, kind="stage_manual")
    assert event.summary == "人工升级：电话沟通 → 书面催缴通知书。原因：业主明确拒缴"
    assert event.actor == wb_manager
    assert event.data == {
        "stage": "notice",
        "from": "phone",
        "direction": "up",
        "reason": "业主明确拒缴",
    }
    entry = AuditEntry.objects.get(object_type="collection.case", action=AuditAction.UPDATE)
    assert entry.actor == wb_manager
    assert entry.before["stage"] == "phone" and entry.after["stage"] == "notice"
    assert "业主明确拒缴" in entry.note


def test_down_moves_one_stage_back(case, wb_manager):
    case_stage_move(case=case, direction="down", reason="业主已答应月底缴清", actor=wb_manager)
    case.refresh_from_db()
    assert case.stage == StageKey.REMINDER
    event = CaseEvent.objects.get(case=case, kind="stage_manual")
    assert event.summary == "人工降级：电话沟通 → 温馨提醒。原因：业主已答应月底缴清"


def test_no_move_past_either_end_of_the_ladder(make_case, wb_collector, wb_manager, policies):
    first = make_case("101", wb_collector, stage=StageKey.REMINDER)
    last = make_case("102", wb_collector, stage=StageKey.LEGAL)
    with pytest.raises(EscalationError, match="第一个阶段"):
        case_stage_move(case=first, direction="down", reason="x", actor=wb_manager)
    with pytest.raises(EscalationError, match="最后一个阶段"):
        case_stage_move(case=last, direction="up", reason="x", actor=wb_manager)
    assert not CaseEvent.objects.exists()


@pytest.fixture
def second_manager(make_user, estate):
    return make_user(Role.MANAGER, username="jingli2", display_name="钱经理", estates=[estate])


def test_up_into_a_stage_needing_approval_submits_the_runs_approval_request(
    make_case, wb_collector, wb_manager, second_manager, policies
):
    case = make_case("1503", wb_collector, stage=StageKey.FINAL_DEMAND)
    plan = case_stage_move_plan(case=case, direction="up")
    assert plan.target == StageKey.LAWYER_LETTER and plan.needs_approval
    case_stage_move(case=case, direction="up", reason="欠费超过一年", actor=wb_manager)
    case.refresh_from_db()
    assert case.stage == StageKey.FINAL_DEMAND  # not moved until approved
    assert case.pending_stage == StageKey.LAWYER_LETTER and case.pending_since == TODAY
    task = Task.objects.get(case=case, kind=TaskKind.APPROVAL)
    assert task.status == TaskStatus.OPEN and task.assigned_to == wb_manager
    assert task.title == "审批：律师函" and task.due_on > TODAY
    action = Action.objects.get(case=case)
    assert action.key == f"{case.pk}:lawyer_letter:{APPROVAL_STEP}:{TODAY:%Y-%m-%d}"
    assert action.task == task
    event = CaseEvent.objects.get(case=case, kind="approval_requested")
    assert "欠费超过一年" in event.summary
    # Asking again while it waits is refused; the approval is the run's own.
    with pytest.raises(EscalationError, match="已提交审批"):
        case_stage_move(case=case, direction="up", reason="再次", actor=wb_manager)
    case_stage_approve(case=case, actor=second_manager)
    case.refresh_from_db()
    assert case.approved_stage == StageKey.LAWYER_LETTER
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    # Once approved, the manager's move enters it directly.
    assert not case_stage_move_plan(case=case, direction="up").needs_approval
    case_stage_move(case=case, direction="up", reason="已审批", actor=wb_manager)
    case.refresh_from_db()
    assert case.stage == StageKey.LAWYER_LETTER and case.approved_stage == ""


def test_moving_down_withdraws_a_waiting_approval(make_case, wb_collector, wb_manager, policies):
    case = make_case("1503", wb_collector, stage=StageKey.FINAL_DEMAND)
    case_stage_move(case=case, direction="up", reason="欠费超过一年", actor=wb_manager)
    case_stage_move(case=case, direction="down", reason="业主已缴一部分", actor=wb_manager)
    case.refresh_from_db()
    assert case.stage == StageKey.VISIT and case.pending_stage == ""
    assert Task.objects.get(case=case, kind=TaskKind.APPROVAL).status == TaskStatus.CANCELLED


def test_rules_reason_closed_and_scope(case, wb_manager, make_user, other_estate):
    with pytest.raises(EscalationError, match="原因"):
        case_stage_move(case=case, direction="up", reason="  ", actor=wb_manager)
    outsider = make_user(Role.MANAGER, username="jingli2", estates=[other_estate])
    with pytest.raises(PermissionDenied):
        case_stage_move(case=case, direction="up", reason="x", actor=outsider)
    case.status = CaseStatus.CLOSED
    case.save(update_fields=["status"])
    with pytest.raises(EscalationError, match="结案"):
        case_stage_move(case=case, direction="up", reason="x", actor=wb_manager)
    case.refresh_from_db()
    assert case.stage == StageKey.PHONE and not CaseEvent.objects.exists()


def test_collectors_may_not_move_stages(client, case, wb_collector):
    with pytest.raises(PermissionDenied):
        case_stage_move(case=case, direction="up", reason="x", actor=wb_collector)
    client.force_login(wb_collector)
    assert client.get(f"/collection/cases/{case.pk}/stage/up/").status_code == 403
    response = client.post(
        f"/collection/cases/{case.pk}/stage/up/", {"reason": "x", "confirm": "1"}
    )
    assert response.status_code == 403
    html = client.get(f"/collection/cases/{case.pk}/").content.decode()
    assert "data-stage-move" not in html
    case.refresh_from_db()
    assert case.stage == StageKey.PHONE


def test_page_confirms_before_moving(client, case, wb_manager):
    client.force_login(wb_manager)
    html = client.get(f"/collection/cases/{case.pk}/").content.decode()
    assert 'data-stage-move="up"' in html and "升级至“书面催缴通知书”" in html
    assert 'data-stage-move="down"' in html and "降级至“温馨提醒”" in html
    page = client.get(f"/collection/cases/{case.pk}/stage/up/")
    assert page.status_code == 200
    assert "将从“电话沟通”阶段调整到“书面催缴通知书”阶段" in page.content.decode()
    case.refresh_from_db()
    assert case.stage == StageKey.PHONE  # the page itself changes nothing
    unconfirmed = client.post(f"/collection/cases/{case.pk}/stage/up/", {"reason": "拒缴"})
    assert unconfirmed.status_code == 422
    no_reason = client.post(f"/collection/cases/{case.pk}/stage/up/", {"confirm": "1"})
    assert no_reason.status_code == 422 and "请填写调整原因" in no_reason.content.decode()
    case.refresh_from_db()
    assert case.stage == StageKey.PHONE
    done = client.post(f"/collection/cases/{case.pk}/stage/up/", {"reason": "拒缴", "confirm": "1"})
    assert done.status_code == 302 and done["Location"] == f"/collection/cases/{case.pk}/"
    case.refresh_from_db()
    assert case.stage == StageKey.NOTICE
    timeline = client.get(f"/collection/cases/{case.pk}/").content.decode()
    assert "人工升级：电话沟通 → 书面催缴通知书。原因：拒缴" in timeline
    assert client.get(f"/collection/cases/{case.pk}/stage/sideways/").status_code == 302


# --- four eyes -------------------------------------------------------------------------------


def test_whoever_asked_for_a_stage_may_not_approve_it(
    make_case, wb_collector, wb_manager, second_manager, policies
):
    case = make_case("1503", wb_collector, stage=StageKey.FINAL_DEMAND)
    case_stage_move(case=case, direction="up", reason="欠费超过一年", actor=wb_manager)
    assert Task.objects.get(case=case, kind=TaskKind.APPROVAL).requested_by == wb_manager
    case.refresh_from_db()
    with pytest.raises(DunningError, match="不能审批自己提交的升级申请"):
        case_stage_grant(case=case, actor=wb_manager)
    case.refresh_from_db()
    assert (case.pending_stage, case.approved_stage) == (StageKey.LAWYER_LETTER, "")
    # Another manager of the estate may approve it.
    case_stage_grant(case=case, actor=second_manager)
    case.refresh_from_db()
    assert case.approved_stage == StageKey.LAWYER_LETTER


def test_the_board_sends_the_requester_to_someone_else(
    client, make_case, wb_collector, wb_manager, second_manager, policies
):
    from django.urls import reverse

    case = make_case("1503", wb_collector, stage=StageKey.FINAL_DEMAND)
    case_stage_move(case=case, direction="up", reason="欠费超过一年", actor=wb_manager)
    approve = reverse("collection:stage_approve", args=[case.pk])
    client.force_login(wb_manager)
    board = client.get(reverse("collection:board")).content.decode()
    assert f'href="{approve}"' not in board
    assert "本人提交的升级，需由其他负责人审批" in board
    refused = client.post(approve, {"note": "同意", "confirm": "1"})
    assert "不能审批自己提交的升级申请" in refused.content.decode()
    case.refresh_from_db()
    assert case.approved_stage == ""
    client.force_login(second_manager)
    assert f'href="{approve}"' in client.get(reverse("collection:board")).content.decode()

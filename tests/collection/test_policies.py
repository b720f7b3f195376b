"""Policies as data: the shipped presets validate and survive YAML; a bad definition is refused
with every problem named in Chinese; versions are immutable and numbered."""

from __future__ import annotations

import copy

import pytest
import yaml

from propfee.collection.constants import STAGE_ORDER
from propfee.collection.definition import DefinitionError, definition_data, definition_parse
from propfee.collection.models import EstatePolicy, Policy, PolicyVersion
from propfee.collection.policies import (
    PRESET_FILES,
    estate_policy_set,
    policies_defaults_load,
    policy_create,
    policy_document_parse,
    policy_estate_ids,
    policy_export_yaml,
    policy_import_yaml,
    policy_version_create,
    preset_text,
)
from propfee.core.roles import PermissionDenied, ScopeTooNarrow


def _raw(name: str = "default") -> dict:
    return yaml.safe_load(preset_text(name))


@pytest.mark.parametrize("name", PRESET_FILES)
def test_presets_validate_and_round_trip(name):
    document = policy_document_parse(preset_text(name))
    stages = [s.key for s in document.definition.stages]
    assert stages == sorted(stages, key=STAGE_ORDER.index)
    assert definition_parse(definition_data(document.definition)) == document.definition


def test_default_ladder_is_the_design_table():
    definition = policy_document_parse(preset_text("default")).definition
    assert [s.key for s in definition.stages] == list(STAGE_ORDER)
    lawyer = definition.stage("lawyer_letter")
    assert lawyer.approval and definition.stage("legal").approval
    assert {c.min_amount_fen for c in lawyer.enter.any_of} == {500000, None}
    assert {c.min_days_overdue for c in lawyer.enter.any_of} == {365, None}
    reminder = definition.stage("reminder")
    assert (reminder.repeat.every_days, reminder.repeat.times) == (7, 3)
    cadence = definition.segments.cadence
    assert [(i.task, i.every_days) for i in cadence["key"]] == [("phone", 7)]
    assert [(i.task, i.every_days) for i in cadence["general"]] == [("phone", 14), ("visit", 30)]


def test_three_issue_presets_are_shipped():
    names = {policy_document_parse(preset_text(n)).name for n in PRESET_FILES}
    assert {"快速升级", "标准四步", "四周四步"} <= names


def test_defaults_load_is_idempotent(company):
    assert policies_defaults_load(company) == len(PRESET_FILES)
    assert policies_defaults_load(company) == 0
    assert Policy.objects.filter(company=company).count() == len(PRESET_FILES)
    default = Policy.objects.get(company=company, is_default=True)
    assert default.code == "default"
    assert PolicyVersion.objects.filter(policy__company=company).count() == len(PRESET_FILES)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.pop("tolerance"), "tolerance（起催金额）：必须设置"),
        (lambda r: r.update(tolerance=50.5), "金额请写成带引号的元"),
        (
            lambda r: r["stages"].reverse(),
            "顺序不对",
        ),
        (
            lambda r: r["stages"][2]["actions"][0].update(task="call"),
            "阶段“电话沟通”(phone).actions 第1项.task：应为 phone/visit/deliver/approval",
        ),
        (
            lambda r: r["stages"][1]["actions"][0].update(channel="fax"),
            "阶段“温馨提醒”(reminder).actions 第1项.channel：应为 sms/wechat/email",
        ),
        (
            lambda r: r["stages"][1].update(repeat={"every_days": 7}),
            "阶段“温馨提醒”(reminder).repeat：须同时设置 every_days 与 times",
        ),
        (
            lambda r: r["stages"][3]["actions"][0].update(deadline_days=1),
            "阶段“书面催缴通知书”(notice).actions 第1项.deadline_days：应在 3 到 90 之间",
        ),
        (lambda r: r["stages"].append({"key": "cut_water"}), "key 应为"),
        (lambda r: r["stages"].append(copy.deepcopy(r["stages"][1])), "重复出现"),
        (
            lambda r: r["stages"][1]["enter"].update(min_days_overdue="三天"),
            "阶段“温馨提醒”(reminder).enter.min_days_overdue：应为整数",
        ),
        (
            lambda r: r["stages"][4].update(actions=[]),
            "阶段“上门催收”(visit).actions：至少需要一个动作",
        ),
        (lambda r: r["options"].update(sms_per_hour=3), "options：不认识的字段“sms_per_hour”"),
    ],
)
def test_invalid_definitions_are_refused_with_the_reason(change, message):
    raw = _raw()
    change(raw)
    with pytest.raises(DefinitionError) as caught:
        definition_parse(raw)
    assert message in str(caught.value)


def test_every_problem_is_listed_at_once():
    raw = _raw()
    raw["stages"][1]["actions"][0]["channel"] = "fax"
    raw["stages"][2]["actions"][0]["task"] = "call"
    with pytest.raises(DefinitionError) as caught:
        definition_parse(raw)
    assert len(caught.value.problems) == 2


def test_versions_are_new_rows_and_numbered(company, manager, admin_user):
    policy = policy_create(
        company=company, code="mine", name="我的策略", definition=_raw("fast"), actor=admin_user
    )
    first = policy.versions.get()
    raw = _raw("fast")
    raw["tolerance"] = "200.00"
    second = policy_version_create(
        policy=policy, definition=raw, actor=manager, note="提高起催金额"
    )
    first.refresh_from_db()
    assert (first.number, second.number) == (1, 2)
    assert first.definition["tolerance"] == "50.00"
    assert second.definition["tolerance"] == "200.00"
    with pytest.raises(DefinitionError):
        policy_version_create(policy=policy, definition={"stages": []}, actor=manager)
    assert policy.versions.count() == 2


def test_collectors_may_not_edit_policies(company, collector):
    with pytest.raises(PermissionDenied):
        policy_create(company=company, code="x", name="x", definition=_raw(), actor=collector)


def test_yaml_export_import_round_trip(company, admin_user):
    policies_defaults_load(company)
    policy = Policy.objects.get(company=company, code="standard4")
    text = policy_export_yaml(policy)
    assert "name: 标准四步" in text and "最后催告（宽限期）" in text  # readable Chinese
    # Re-imported unchanged: a new version with the same definition.
    version = policy_import_yaml(company=company, text=text, actor=admin_user)
    assert version.number == 2
    assert version.definition == policy.versions.get(number=1).definition
    # Imported under a new code: a new policy.
    version = policy_import_yaml(
        company=company, text=text.replace("code: standard4", "code: copy4"), actor=admin_user
    )
    assert version.policy.code == "copy4" and version.number == 1
    with pytest.raises(DefinitionError) as caught:
        policy_import_yaml(company=company, text="code: x\nname: [", actor=admin_user)
    assert "YAML 格式错误" in str(caught.value)


# --- company-wide: who may change what an estate follows ---------------------------------------


def test_a_manager_sets_the_policy_of_their_estate_only(
    company, estate, other_estate, manager, admin_user, policies
):
    fast = Policy.objects.get(company=company, code="fast")
    estate_policy_set(estate=estate, policy=fast, actor=manager)
    assert EstatePolicy.objects.get(estate=estate).policy == fast
    with pytest.raises(ScopeTooNarrow, match="涉及您负责范围以外的项目"):
        estate_policy_set(estate=other_estate, policy=fast, actor=manager)
    assert not EstatePolicy.objects.filter(estate=other_estate).exists()
    estate_policy_set(estate=other_estate, policy=fast, actor=admin_user)
    assert EstatePolicy.objects.get(estate=other_estate).policy == fast


def test_a_policy_is_edited_only_by_someone_covering_every_estate_following_it(
    company, estate, other_estate, manager, admin_user, policies
):
    default = Policy.objects.get(company=company, is_default=True)
    fast = Policy.objects.get(company=company, code="fast")
    estate_policy_set(estate=estate, policy=fast, actor=admin_user)
    raw = _raw("fast")
    # `fast` is followed by the manager's estate only; the default by the other estate too.
    assert policy_estate_ids(fast) == {estate.pk}
    assert policy_estate_ids(default) == {other_estate.pk}
    policy_version_create(policy=fast, definition=raw, actor=manager, note="本项目调整")
    with pytest.raises(ScopeTooNarrow):
        policy_version_create(policy=default, definition=raw, actor=manager)
    with pytest.raises(ScopeTooNarrow):
        policy_import_yaml(company=company, text=policy_export_yaml(default), actor=manager)
    assert default.versions.count() == 1
    policy_version_create(policy=default, definition=raw, actor=admin_user)
    assert default.versions.count() == 2

"""The policy pages (/collection/policies/): the list with the default and the estates following
each policy, a policy's stages and versions, the YAML editor (errors named by stage and field, a
dry-run preview that writes nothing, saving as version n+1), YAML export and import, the policy
of an estate, and who may open them."""

from __future__ import annotations

import pytest
import yaml
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from propfee.collection.models import EstatePolicy, Policy, PolicyVersion
from propfee.collection.policies import policy_export_yaml
from propfee.core.models import AuditEntry


@pytest.fixture
def as_manager(client, manager, policies):
    client.force_login(manager)
    return client


@pytest.fixture
def default_policy(company, policies):
    return Policy.objects.get(company=company, is_default=True)


def _edited(policy: Policy, **changes) -> str:
    """The policy's YAML with top-level fields changed."""
    document = yaml.safe_load(policy_export_yaml(policy))
    document.update(changes)
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"collection", "core", "messaging", "documents", "ledger"}
    }


def test_list_marks_the_default_and_the_estates(as_manager, default_policy, estate):
    page = as_manager.get(reverse("collection:policy_list")).content.decode()
    assert "默认催收阶梯" in page and "公司默认" in page
    assert "快速升级" in page and "标准四步" in page and "四周四步" in page
    # The estate follows the company default, version 1.
    assert f"{default_policy.name} v1" in page and estate.name in page


def test_detail_shows_the_stages_and_versions(as_manager, default_policy):
    page = as_manager.get(reverse("collection:policy_detail", args=[default_policy.pk]))
    text = page.content.decode()
    for label in ("温馨提醒", "电话沟通", "书面催缴通知书", "上门催收", "最后催告", "律师函"):
        assert label in text
    assert "逾期满 1 天" in text and "每 7 天重复，共 3 次" in text
    assert "欠费满 ¥5,000.00" in text or "欠费满 ¥5000.00" in text
    assert "需经理审批" in text and "系统预置" in text  # the approval and version 1's note


def test_validation_errors_name_the_stage_and_field(as_manager, default_policy):
    text = policy_export_yaml(default_policy).replace(
        "min_days_overdue: 1", "min_days_overdue: 一天", 1
    )
    response = as_manager.post(
        reverse("collection:policy_edit", args=[default_policy.pk]),
        {"text": text, "note": "", "as_of": "2026-04-01", "action": "save"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "阶段“温馨提醒”(reminder).enter.min_days_overdue：应为整数" in page
    assert default_policy.versions.count() == 1

    broken = as_manager.post(
        reverse("collection:policy_edit", args=[default_policy.pk]),
        {"text": "stages: [", "as_of": "2026-04-01", "action": "preview"},
    )
    assert "YAML 格式错误" in broken.content.decode()


def test_the_code_cannot_change(as_manager, default_policy):
    response = as_manager.post(
        reverse("collection:policy_edit", args=[default_policy.pk]),
        {"text": _edited(default_policy, code="other"), "as_of": "2026-04-01", "action": "save"},
    )
    assert "code（策略编码）：不能修改" in response.content.decode()
    assert not Policy.objects.filter(code="other").exists()


def test_dry_run_preview_writes_nothing(as_manager, default_policy, owing):
    owing("101", months=[1, 2, 3])
    before = _row_counts()
    # The unsaved policy starts collecting at ¥1,000: the unit owing ¥300 gets no case.
    text = _edited(default_policy, tolerance="1000.00")
    response = as_manager.post(
        reverse("collection:policy_edit", args=[default_policy.pk]),
        {"text": text, "note": "", "as_of": "2026-04-01", "action": "preview"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "未写入任何数据" in page and "没有需要执行的动作" in page
    assert "1000.00" in page  # the edited text stays in the editor
    assert _row_counts() == before

    # The saved policy would open the case and send the reminder.
    response = as_manager.post(
        reverse("collection:policy_edit", args=[default_policy.pk]),
        {"text": policy_export_yaml(default_policy), "as_of": "2026-04-01", "action": "preview"},
    )
    page = response.content.decode()
    assert "DEMO-3-101" in page and "温馨提醒" in page and "新立案" in page
    assert _row_counts() == before


def test_save_creates_the_next_version(as_manager, default_policy):
    response = as_manager.post(
        reverse("collection:policy_edit", args=[default_policy.pk]),
        {
            "text": _edited(default_policy, tolerance="80.00"),
            "note": "起催金额改为 80 元",
            "as_of": "2026-04-01",
            "action": "save",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse(
        "collection:policy_detail", args=[default_policy.pk]
    )
    assert "第 2 版" in response.content.decode()
    latest = default_policy.versions.order_by("-number").first()
    assert latest.number == 2 and latest.note == "起催金额改为 80 元"
    assert latest.definition["tolerance"] == "80.00"
    assert default_policy.versions.get(number=1).definition["tolerance"] == "50.00"
    assert AuditEntry.objects.filter(object_type="collection.policyversion").count() >= 2


def test_export_then_import_round_trip(as_manager, default_policy, company):
    response = as_manager.get(reverse("collection:policy_export", args=[default_policy.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="policy-default-v1.yaml"'
    exported = response.content.decode()
    assert yaml.safe_load(exported)["code"] == "default"

    # The same code: a new version of the same policy, identical definition.
    upload = SimpleUploadedFile("default.yaml", exported.encode(), content_type="text/yaml")
    response = as_manager.post(
        reverse("collection:policy_import"), {"file": upload, "note": "导入备份"}, follow=True
    )
    assert "第 2 版" in response.content.decode()
    v1, v2 = default_policy.versions.order_by("number")
    assert v2.definition == v1.definition and v2.note == "导入备份"

    # A new code: a new policy.
    document = yaml.safe_load(exported)
    document.update(code="night", name="夜间策略")
    upload = SimpleUploadedFile("night.yaml", yaml.safe_dump(document, allow_unicode=True).encode())
    as_manager.post(reverse("collection:policy_import"), {"file": upload})
    night = Policy.objects.get(company=company, code="night")
    assert night.name == "夜间策略" and not night.is_default
    assert night.versions.get().definition == v1.definition


def test_an_invalid_import_is_refused_whole(as_manager, company):
    before = PolicyVersion.objects.count()
    upload = SimpleUploadedFile("bad.yaml", b"code: bad\nname: x\ntolerance: 12.5\nstages: []\n")
    response = as_manager.post(reverse("collection:policy_import"), {"file": upload})
    page = response.content.decode()
    assert response.status_code == 400
    assert "tolerance（起催金额）" in page and "stages：至少需要一个催收阶段" in page
    assert PolicyVersion.objects.count() == before


def test_choose_the_policy_of_an_estate(as_manager, company, estate):
    fast = Policy.objects.get(company=company, code="fast")
    response = as_manager.post(
        reverse("collection:estate_policy_choose", args=[estate.pk]),
        {"policy": fast.pk},
        follow=True,
    )
    assert EstatePolicy.objects.get(estate=estate).policy == fast
    assert "今后按“快速升级”催收" in response.content.decode()
    as_manager.post(reverse("collection:estate_policy_choose", args=[estate.pk]), {"policy": ""})
    assert not EstatePolicy.objects.filter(estate=estate).exists()


def test_collectors_cannot_open_policies(client, collector, default_policy, estate):
    client.force_login(collector)
    assert client.get(reverse("collection:policy_list")).status_code == 403
    assert client.get(
        reverse("collection:policy_export", args=[default_policy.pk])
    ).status_code == (403)
    response = client.post(
        reverse("collection:policy_edit", args=[default_policy.pk]),
        {"text": policy_export_yaml(default_policy), "as_of": "2026-04-01", "action": "save"},
    )
    assert response.status_code == 403 and default_policy.versions.count() == 1
    assert client.post(
        reverse("collection:estate_policy_choose", args=[estate.pk]), {"policy": ""}
    ).status_code == (403)
    assert reverse("collection:policy_list") not in client.get("/").content.decode()


def test_another_company_s_policy_is_not_found(as_manager, default_policy):
    from tests.factories import CompanyFactory

    other = Policy.objects.create(company=CompanyFactory(code="OTHER"), code="x", name="别家")
    assert as_manager.get(reverse("collection:policy_detail", args=[other.pk])).status_code == 404
    page = as_manager.get("/").content.decode()
    assert reverse("collection:policy_list") in page and "催收策略" in page


def test_a_manager_of_one_estate_may_not_choose_another_estate_s_policy(
    as_manager, company, estate, other_estate
):
    fast = Policy.objects.get(company=company, code="fast")
    refused = as_manager.post(
        reverse("collection:estate_policy_choose", args=[other_estate.pk]), {"policy": fast.pk}
    )
    assert refused.status_code == 403
    assert "涉及您负责范围以外的项目" in refused.content.decode()
    assert not EstatePolicy.objects.filter(estate=other_estate).exists()

"""催收策略 pages: the company's policies (default marked, the estates following each, the latest
version), a policy's stages as a table with its version history, the YAML editor with a dry-run
preview of the unsaved policy and saving as a new version, YAML export and import, and the
policy each estate follows. Thin callers of `propfee.collection.policies`."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from propfee.collection.constants import ActionKind, Segment, StageKey, TaskKind
from propfee.collection.definition import (
    Condition,
    Definition,
    DefinitionError,
    DocumentAction,
    MessageAction,
    StageAction,
    TaskAction,
    definition_parse,
)
from propfee.collection.models import EstatePolicy, Policy
from propfee.collection.policies import (
    PolicyError,
    estate_policy_set,
    estate_policy_versions,
    policy_current_version,
    policy_document_parse,
    policy_export_yaml,
    policy_import_yaml,
)
from propfee.collection.run import DunningError, RunReport, dunning_run
from propfee.core import roles
from propfee.core.identifiers import id_parse
from propfee.core.money import format_yuan
from propfee.core.roles import Capability
from propfee.estates.models import Estate
from propfee.web.access import StaffRequest, capability_required

get_or_post = require_http_methods(["GET", "POST"])

# The largest YAML file an import accepts (a policy is a few kilobytes).
MAX_YAML_BYTES = 256 * 1024

_CHANNELS = {
    "sms": gettext_lazy("短信"),
    "wechat": gettext_lazy("微信"),
    "email": gettext_lazy("邮件"),
}
_DOCUMENTS = {
    "notice": gettext_lazy("书面催缴通知书"),
    "final_demand": gettext_lazy("催告函"),
    "lawyer_letter": gettext_lazy("律师函"),
    "committee_letter": gettext_lazy("业委会督促函"),
    "statement": gettext_lazy("欠费对账单"),
}


# --- forms -----------------------------------------------------------------------------------


class PolicyEditForm(forms.Form):
    """The YAML of a policy, the change note and the date a preview runs as of."""

    text = forms.CharField(
        label=gettext_lazy("策略内容（YAML）"),
        widget=forms.Textarea(attrs={"rows": 28, "class": "font-monospace", "spellcheck": "false"}),
    )
    note = forms.CharField(label=gettext_lazy("修改说明"), max_length=500, required=False)
    as_of = forms.DateField(
        label=gettext_lazy("试运行日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class PolicyImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("YAML 文件"))
    note = forms.CharField(label=gettext_lazy("修改说明"), max_length=500, required=False)


# --- reading a definition ----------------------------------------------------------------------


def _condition_text(condition: Condition) -> list[str]:
    parts = []
    if condition.days_before_due is not None:
        parts.append(_("到期前 %(n)s 天") % {"n": condition.days_before_due})
    if condition.min_days_overdue is not None:
        parts.append(_("逾期满 %(n)s 天") % {"n": condition.min_days_overdue})
    if condition.min_amount_fen is not None:
        parts.append(_("欠费满 ¥%(amount)s") % {"amount": format_yuan(condition.min_amount_fen)})
    if condition.min_months_owed is not None:
        parts.append(_("欠费满 %(n)s 个月") % {"n": condition.min_months_owed})
    if condition.segment is not None:
        parts.append(_("仅%(segment)s欠费户") % {"segment": Segment(condition.segment).label})
    if condition.after_previous_days is not None:
        parts.append(
            _("进入上一阶段 %(n)s 天后仍未缴费或承诺") % {"n": condition.after_previous_days}
        )
    if condition.any_of:
        choices = ["、".join(_condition_text(c)) for c in condition.any_of if _condition_text(c)]
        parts.append(_("且满足其一：%(choices)s") % {"choices": " / ".join(choices)})
    return parts


def _action_text(action: StageAction) -> str:
    if isinstance(action, MessageAction):
        text = _("发送%(channel)s（模板：%(template)s）") % {
            "channel": _CHANNELS.get(action.channel, action.channel),
            "template": StageKey(action.template).label,
        }
        if action.fallback:
            fallback = "、".join(str(_CHANNELS.get(f, f)) for f in action.fallback)
            text += _("，发不出时改用%(fallback)s") % {"fallback": fallback}
        return text
    if isinstance(action, TaskAction):
        text = _("%(task)s任务，%(n)s 个工作日内完成") % {
            "task": TaskKind(action.task).label,
            "n": action.due_in,
        }
        return f"{text}：{action.title}" if action.title else text
    assert isinstance(action, DocumentAction)
    text = _("生成%(document)s") % {"document": _DOCUMENTS.get(action.document, action.document)}
    if action.deadline_days is not None:
        text += _("（限期 %(n)s 天）") % {"n": action.deadline_days}
    return text


def stage_rows(definition: Definition) -> list[dict[str, Any]]:
    """The stages as table rows: name, entry conditions, actions, cadence and approval."""
    rows = []
    for stage in definition.stages:
        rows.append(
            {
                "key": stage.key,
                "label": stage.label,
                "enter": _condition_text(stage.enter) or [_("无附加条件")],
                "actions": [_action_text(a) for a in stage.actions],
                "cadence": (
                    _("每 %(every)s 天重复，共 %(times)s 次")
                    % {"every": stage.repeat.every_days, "times": stage.repeat.times}
                    if stage.repeat
                    else _("执行一次")
                ),
                "approval": stage.approval,
            }
        )
    return rows


def segment_rows(definition: Definition) -> list[tuple[str, str]]:
    """The key/general segment rules and cadences as (label, text) lines."""
    rules = definition.segments
    key = []
    if rules.key_min_amount_fen is not None:
        key.append(_("欠费满 ¥%(amount)s") % {"amount": format_yuan(rules.key_min_amount_fen)})
    if rules.key_min_months_owed is not None:
        key.append(_("欠费满 %(n)s 个月") % {"n": rules.key_min_months_owed})
    if rules.key_min_risk is not None:
        key.append(_("风险评分满 %(n)s") % {"n": rules.key_min_risk})
    rows = [
        (_("起催金额"), f"¥{format_yuan(definition.tolerance_fen)}"),
        (_("重点欠费户"), _("满足其一：%(rules)s") % {"rules": "、".join(key)} if key else "—"),
    ]
    if rules.cadence_from_stage:
        for segment in Segment:
            items = rules.cadence.get(segment.value) or ()
            if items:
                text = "；".join(
                    _("每 %(n)s 天%(task)s") % {"n": i.every_days, "task": TaskKind(i.task).label}
                    for i in items
                )
                rows.append(
                    (
                        _("%(segment)s跟进频率") % {"segment": segment.label},
                        _("自“%(stage)s”起%(text)s")
                        % {"stage": StageKey(rules.cadence_from_stage).label, "text": text},
                    )
                )
    options = definition.options
    rows += [
        (_("争议暂停催收"), _("是") if options.dispute_holds else _("否")),
        (_("承诺宽限天数"), str(options.promise_grace_days)),
        (
            _("每户消息上限"),
            _("每天 %(day)s 条，每周 %(week)s 条")
            % {"day": options.messages_per_day, "week": options.messages_per_week},
        ),
    ]
    return rows


# --- pages -----------------------------------------------------------------------------------


def _policies(request: StaffRequest) -> Any:
    if request.user.company is None:
        return Policy.objects.none()
    return Policy.objects.filter(company=request.user.company)


def _policy(request: StaffRequest, pk: int) -> Policy:
    policy = _policies(request).filter(pk=pk).first()
    if policy is None:
        raise Http404
    return policy


@capability_required(Capability.MANAGE_POLICIES)
def policy_list(request: StaffRequest) -> HttpResponseBase:
    """催收策略: the company's policies, and which one each estate follows."""
    company = request.user.company
    policies = list(
        _policies(request).annotate(latest=Max("versions__number")).order_by("-is_default", "code")
    )
    estates = list(Estate.objects.filter(company=company).order_by("code")) if company else []
    following = estate_policy_versions(company) if company else {}
    chosen = dict(
        EstatePolicy.objects.filter(estate__company=company).values_list("estate_id", "policy_id")
    )
    by_policy: dict[int, list[Estate]] = defaultdict(list)
    for estate in estates:
        version = following.get(estate.pk)
        if version is not None:
            by_policy[version.policy_id].append(estate)
        estate.following = version  # type: ignore[attr-defined]
        estate.chosen_policy_id = chosen.get(estate.pk)  # type: ignore[attr-defined]
    for policy in policies:
        policy.estates = by_policy.get(policy.pk, [])  # type: ignore[attr-defined]
    return render(
        request,
        "collection/policies/list.html",
        {"policies": policies, "estates": estates, "import_form": PolicyImportForm()},
    )


@capability_required(Capability.MANAGE_POLICIES)
def policy_detail(request: StaffRequest, pk: int) -> HttpResponseBase:
    """One policy: its latest version's stages as a table, the segments, and every version."""
    policy = _policy(request, pk)
    versions = list(policy.versions.select_related("created_by").order_by("-number"))
    shown = versions[0] if versions else None
    wanted = request.GET.get("version", "")
    if number := id_parse(wanted):
        shown = next((v for v in versions if v.number == number), shown)
    definition = definition_parse(shown.definition) if shown else None
    return render(
        request,
        "collection/policies/detail.html",
        {
            "policy": policy,
            "versions": versions,
            "shown": shown,
            "latest": versions[0] if versions else None,
            "stages": stage_rows(definition) if definition else [],
            "segments": segment_rows(definition) if definition else [],
            "estates": Estate.objects.filter(policy_choice__policy=policy).order_by("code"),
        },
    )


def _preview(request: StaffRequest, definition: Definition, as_of: Any) -> RunReport:
    report = dunning_run(
        company=request.user.company,  # type: ignore[arg-type]
        as_of=as_of,
        actor=request.user,
        dry_run=True,
        policy_override=definition,
    )
    for item in report.preview:
        item["stage_label"] = StageKey(item["stage"]).label if item["stage"] else ""
        item["kind_label"] = ActionKind(item["kind"]).label
    return report


@get_or_post
@capability_required(Capability.MANAGE_POLICIES)
def policy_edit(request: StaffRequest, pk: int) -> HttpResponseBase:
    """The latest version as YAML. 试运行预览 runs the day's collection as a dry run with the
    edited, unsaved policy for every estate; 保存 adds it as a new version."""
    policy = _policy(request, pk)
    latest = policy_current_version(policy)
    form = PolicyEditForm(
        request.POST or None,
        initial={"text": policy_export_yaml(policy), "as_of": timezone.localdate()},
    )
    problems: list[str] = []
    report = None
    if request.method == "POST" and form.is_valid():
        text = form.cleaned_data["text"]
        try:
            document = policy_document_parse(text)
        except DefinitionError as exc:
            problems = exc.problems
        else:
            if document.code != policy.code:
                problems = [_("code（策略编码）：不能修改，应为“%(code)s”") % {"code": policy.code}]
        if not problems and request.POST.get("action") == "save":
            try:
                version = policy_import_yaml(
                    company=policy.company,
                    text=text,
                    actor=request.user,
                    note=form.cleaned_data["note"] or _("在页面中修改"),
                )
            except roles.ScopeTooNarrow:
                raise  # a 403 that says why
            except roles.PermissionDenied as exc:
                raise PermissionDenied from exc
            except (DefinitionError, PolicyError) as exc:
                problems = getattr(exc, "problems", [str(exc)])
            else:
                messages.success(
                    request,
                    _("已保存为“%(name)s”第 %(n)s 版，下一次催收批次起按新版本执行。")
                    % {"name": version.policy.name, "n": version.number},
                )
                return redirect("collection:policy_detail", pk=policy.pk)
        elif not problems:
            try:
                as_of = form.cleaned_data["as_of"] or timezone.localdate()
                report = _preview(request, document.definition, as_of)
            except roles.PermissionDenied:
                problems = [_("您没有运行催收批次的权限，无法试运行。")]
            except DunningError as exc:
                problems = [str(exc)]
    return render(
        request,
        "collection/policies/edit.html",
        {
            "policy": policy,
            "latest": latest,
            "form": form,
            "problems": problems,
            "report": report,
        },
    )


@capability_required(Capability.MANAGE_POLICIES)
def policy_export(request: StaffRequest, pk: int) -> HttpResponseBase:
    """The policy as a YAML download (`?version=N`: that version, else the latest)."""
    policy = _policy(request, pk)
    wanted = request.GET.get("version", "")
    version = policy.versions.filter(number=id_parse(wanted)).first() if wanted else None
    if wanted and version is None:
        raise Http404
    try:
        text = policy_export_yaml(policy, version)
    except PolicyError as exc:
        raise Http404 from exc
    number = version.number if version else policy.versions.aggregate(n=Max("number"))["n"]
    response = HttpResponse(text, content_type="application/x-yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="policy-{policy.code}-v{number}.yaml"'
    return response


@require_POST
@capability_required(Capability.MANAGE_POLICIES)
def policy_import(request: StaffRequest) -> HttpResponseBase:
    """Upload a YAML policy: a new policy for a new code, else a new version of that policy."""
    form = PolicyImportForm(request.POST, request.FILES)
    if not form.is_valid() or request.user.company is None:
        messages.error(request, _("请选择要导入的 YAML 文件。"))
        return redirect("collection:policy_list")
    upload = form.cleaned_data["file"]
    if upload.size > MAX_YAML_BYTES:
        messages.error(request, _("文件过大：策略文件不应超过 256 KB。"))
        return redirect("collection:policy_list")
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        messages.error(request, _("文件不是 UTF-8 编码的文本，无法导入。"))
        return redirect("collection:policy_list")
    try:
        version = policy_import_yaml(
            company=request.user.company,
            text=text,
            actor=request.user,
            note=form.cleaned_data["note"],
        )
    except roles.ScopeTooNarrow:
        raise  # a 403 that says why
    except roles.PermissionDenied as exc:
        raise PermissionDenied from exc
    except DefinitionError as exc:
        return render(
            request,
            "collection/policies/import_errors.html",
            {"problems": exc.problems, "filename": upload.name},
            status=400,
        )
    except PolicyError as exc:
        messages.error(request, str(exc))
        return redirect("collection:policy_list")
    if version.number == 1:
        text = _("已导入新策略“%(name)s”。")
    else:
        text = _("已导入为“%(name)s”第 %(n)s 版。")
    messages.success(request, text % {"name": version.policy.name, "n": version.number})
    return redirect("collection:policy_detail", pk=version.policy_id)


@require_POST
@capability_required(Capability.MANAGE_POLICIES)
def estate_policy_choose(request: StaffRequest, estate_id: int) -> HttpResponseBase:
    """Make an estate follow a policy (blank: the company default)."""
    company = request.user.company
    estate = Estate.objects.filter(company=company, pk=estate_id).first() if company else None
    if estate is None:
        raise Http404
    wanted = request.POST.get("policy", "")
    policy = None
    if wanted:
        policy = _policies(request).filter(pk=id_parse(wanted)).first()
        if policy is None:
            messages.error(request, _("请选择本公司的催收策略。"))
            return redirect("collection:policy_list")
    try:
        estate_policy_set(estate=estate, policy=policy, actor=request.user)
    except roles.ScopeTooNarrow:
        raise  # a 403 that says why
    except roles.PermissionDenied as exc:
        raise PermissionDenied from exc
    except PolicyError as exc:
        messages.error(request, str(exc))
        return redirect("collection:policy_list")
    messages.success(
        request,
        _("项目“%(estate)s”今后按“%(policy)s”催收。")
        % {"estate": estate.name, "policy": policy.name if policy else _("公司默认策略")},
    )
    return redirect("collection:policy_list")

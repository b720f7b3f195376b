"""催收 pages: the daily runs (催收批次) — the list with each run's report, a run started from
the page after a dry-run preview and a confirmation. Thin callers of the collection services."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from propfee.collection.constants import ActionKind, StageKey
from propfee.collection.forms import RunForm
from propfee.collection.selectors import runs_visible_to
from propfee.collection.services import DunningError, RunReport, dunning_run
from propfee.collection.tasks import dunning_dispatch_task
from propfee.core.roles import Capability
from propfee.web.access import StaffRequest, capability_required
from propfee.web.listing import page_of, render_page_or_fragment


def _report(data: dict) -> RunReport:
    fields = RunReport.__dataclass_fields__
    return RunReport(**{k: v for k, v in data.items() if k in fields})


def _labelled(report: RunReport) -> RunReport:
    """The preview lines with their stage and action named in the reader's language."""
    for item in report.preview:
        item["stage_label"] = StageKey(item["stage"]).label if item["stage"] else ""
        item["kind_label"] = ActionKind(item["kind"]).label
    return report


@capability_required(Capability.RUN_DUNNING)
def run_list(request: StaffRequest) -> HttpResponseBase:
    page = page_of(request, runs_visible_to(request.user))
    for run in page:
        run.summary = _report(run.report) if run.report else None  # type: ignore[attr-defined]
    return render_page_or_fragment(
        request,
        "collection/run_list.html",
        "collection/_run_results.html",
        {"page_obj": page, "form": RunForm()},
    )


@capability_required(Capability.RUN_DUNNING)
@require_POST
def run_preview(request: StaffRequest) -> HttpResponseBase:
    form = RunForm(request.POST)
    if not form.is_valid() or request.user.company is None:
        messages.error(request, _("请填写正确的业务日期。"))
        return redirect("collection:run_list")
    as_of = form.cleaned_data["as_of"]
    try:
        report = dunning_run(
            company=request.user.company, as_of=as_of, actor=request.user, dry_run=True
        )
    except DunningError as exc:
        messages.error(request, str(exc))
        return redirect("collection:run_list")
    return render(
        request,
        "collection/run_preview.html",
        {"report": _labelled(report), "as_of": as_of, "form": form},
    )


@capability_required(Capability.RUN_DUNNING)
@require_POST
def run_start(request: StaffRequest) -> HttpResponseBase:
    form = RunForm(request.POST)
    if not form.is_valid() or request.user.company is None:
        messages.error(request, _("请填写正确的业务日期。"))
        return redirect("collection:run_list")
    try:
        report = dunning_run(
            company=request.user.company,
            as_of=form.cleaned_data["as_of"],
            actor=request.user,
            dispatch=False,
        )
    except DunningError as exc:
        messages.error(request, str(exc))
        return redirect("collection:run_list")
    if report.run_id is not None:
        dunning_dispatch_task.enqueue(report.run_id, request.user.pk)
    messages.success(
        request,
        _(
            "催收批次已完成：新立案 %(opened)s 件，结案 %(closed)s 件，执行动作 %(actions)s 项，"
            "生成任务 %(tasks)s 项；消息与文书已交后台派发。"
        )
        % {
            "opened": report.cases_opened,
            "closed": report.cases_closed_total,
            "actions": report.actions_total,
            "tasks": report.tasks_created,
        },
    )
    return redirect("collection:run_detail", pk=report.run_id)


@capability_required(Capability.RUN_DUNNING)
def run_detail(request: StaffRequest, pk: int) -> HttpResponseBase:
    run = runs_visible_to(request.user).filter(pk=pk).first()
    if run is None:
        raise Http404
    report = _labelled(_report(run.report)) if run.report else None
    return render(request, "collection/run_detail.html", {"run": run, "report": report})

"""Forms of the installment-plan, hold, service-issue, legal-matter and limitation pages: the
list filters and the write forms (amounts typed in yuan, turned into fen here)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from propfee.collection.constants import (
    HoldKind,
    IssueCategory,
    IssueStatus,
    LegalKind,
    LegalStatus,
    PlanStatus,
)
from propfee.collection.holds import MANUAL_KINDS, holds_in_force, issues_overdue
from propfee.collection.legal import EVIDENCE_ITEMS
from propfee.collection.limitation import WARNING_DAYS
from propfee.collection.models import Hold, InstallmentPlan, LegalMatter, ServiceIssue
from propfee.core.models import User
from propfee.core.money import yuan_to_fen
from propfee.estates.models import Unit
from propfee.estates.selectors import estates_visible_to, unit_get
from propfee.web.forms import BootstrapMixin, FilterForm


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _yuan(label: Any, *, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, required=required, min_value=Decimal(0), max_digits=14, decimal_places=2
    )


def fen(value: Decimal | None) -> int:
    return yuan_to_fen(value or Decimal(0))


def _choices(blank: Any, choices: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("", blank), *choices]


class UnitForm(BootstrapMixin, forms.Form):
    """A write form about one unit, named by its code (房屋编码) within the user's scope."""

    unit = forms.CharField(label=_("房屋编码"), max_length=64)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_unit(self) -> Unit:
        try:
            return unit_get(user=self.user, code=self.cleaned_data["unit"])
        except (Unit.DoesNotExist, Unit.MultipleObjectsReturned) as exc:
            raise forms.ValidationError(_("没有这个房屋，或不在您负责的范围内。")) from exc


class EstateFilterForm(FilterForm):
    """A list filter with the estates the user sees."""

    estate: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("项目"), queryset=None, required=False
    )

    def __init__(self, data: Any, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        estate = cast(forms.ModelChoiceField, self.fields["estate"])
        estate.queryset = estates_visible_to(user).order_by("code")
        estate.empty_label = _("全部项目")


# --- installment plans -----------------------------------------------------------------------


class PlanRequestForm(UnitForm):
    total = _yuan(_("分期总额(元)"))
    count = forms.IntegerField(label=_("期数"), min_value=1, max_value=60, initial=3)
    first_due_on = forms.DateField(label=_("首期还款日期"), widget=_date_input())
    every_months = forms.IntegerField(label=_("间隔(月)"), min_value=1, max_value=12, initial=1)
    grace_days = forms.IntegerField(label=_("宽限天数"), min_value=0, max_value=60, initial=5)
    waive_penalty_on_completion = forms.BooleanField(
        label=_("按期履行完毕后减免违约金"), required=False
    )
    reason = forms.CharField(
        label=_("申请理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    requested_on = forms.DateField(
        label=_("业主书面申请日期"),
        required=False,
        widget=_date_input(),
        help_text=_("业主书面申请分期即承认欠款，自该日起诉讼时效重新计算；留空为今天"),
    )


class PlanFilterForm(EstateFilterForm):
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=_choices(_("全部状态"), PlanStatus.choices)
    )

    def filter(self, plans: QuerySet[InstallmentPlan]) -> QuerySet[InstallmentPlan]:
        values = self.values()
        if "estate" in values:
            plans = plans.filter(unit__estate_id=values["estate"].pk)
        if "status" in values:
            plans = plans.filter(status=values["status"])
        return plans


class NoteForm(BootstrapMixin, forms.Form):
    """A note or reason; required when `required`."""

    note = forms.CharField(
        label=_("意见"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self, *args: Any, label: Any = None, required: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["note"].required = required
        if label is not None:
            self.fields["note"].label = label


# --- holds -----------------------------------------------------------------------------------


class HoldForm(UnitForm):
    kind = forms.ChoiceField(
        label=_("暂停类型"), choices=[(k, HoldKind(k).label) for k in MANUAL_KINDS]
    )
    starts_on = forms.DateField(label=_("开始日期"), widget=_date_input())
    ends_on = forms.DateField(
        label=_("结束日期"),
        required=False,
        widget=_date_input(),
        help_text=_("人工暂停和经济困难必须填写；法律程序中可留空，至解除为止。"),
    )
    reason = forms.CharField(
        label=_("暂停原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )


class HoldFilterForm(EstateFilterForm):
    kind = forms.ChoiceField(
        label=_("暂停类型"), required=False, choices=_choices(_("全部类型"), HoldKind.choices)
    )
    in_force = forms.BooleanField(label=_("仅显示生效中"), required=False)

    def filter(self, holds: QuerySet[Hold]) -> QuerySet[Hold]:
        values = self.values()
        if "estate" in values:
            holds = holds.filter(unit__estate_id=values["estate"].pk)
        if "kind" in values:
            holds = holds.filter(kind=values["kind"])
        if values.get("in_force"):
            holds = holds.filter(holds_in_force(timezone.localdate()))
        return holds


# --- service issues --------------------------------------------------------------------------


class IssueForm(UnitForm):
    category = forms.ChoiceField(label=_("问题类别"), choices=IssueCategory.choices)
    description = forms.CharField(label=_("问题描述"), widget=forms.Textarea(attrs={"rows": 3}))
    department = forms.CharField(label=_("责任部门"), max_length=64)
    promised_on = forms.DateField(label=_("承诺解决日期"), required=False, widget=_date_input())
    is_dispute = forms.BooleanField(
        label=_("业主因此拒缴（服务争议）"),
        required=False,
        help_text=_("勾选后登记争议暂停；是否据此暂停催收由催收策略决定。"),
    )


class IssueFilterForm(EstateFilterForm):
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=_choices(_("全部状态"), IssueStatus.choices)
    )
    category = forms.ChoiceField(
        label=_("问题类别"),
        required=False,
        choices=_choices(_("全部类别"), IssueCategory.choices),
    )
    department = forms.CharField(label=_("责任部门"), required=False, max_length=64)
    overdue = forms.BooleanField(label=_("仅显示逾期未解决"), required=False)

    def filter(self, issues: QuerySet[ServiceIssue]) -> QuerySet[ServiceIssue]:
        values = self.values()
        if "estate" in values:
            issues = issues.filter(unit__estate_id=values["estate"].pk)
        if "status" in values:
            issues = issues.filter(status=values["status"])
        if "category" in values:
            issues = issues.filter(category=values["category"])
        if values.get("department"):
            issues = issues.filter(department__icontains=values["department"].strip())
        if values.get("overdue"):
            issues = issues_overdue(issues, on=timezone.localdate())
        return issues


class IssueStatusForm(BootstrapMixin, forms.Form):
    status = forms.ChoiceField(
        label=_("改为"),
        choices=[(s, IssueStatus(s).label) for s in (IssueStatus.IN_PROGRESS, IssueStatus.CLOSED)],
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)


class IssueResolveForm(BootstrapMixin, forms.Form):
    resolution = forms.CharField(label=_("处理结果"), widget=forms.Textarea(attrs={"rows": 3}))
    resolved_on = forms.DateField(label=_("解决日期"), widget=_date_input())


# --- legal matters ---------------------------------------------------------------------------


class LegalMatterForm(UnitForm):
    kind = forms.ChoiceField(label=_("类型"), choices=LegalKind.choices)
    claim = _yuan(_("主张金额(元)"))
    lawyer_fee = _yuan(_("律师费(元)"), required=False)
    court = forms.CharField(label=_("受理法院/仲裁机构"), max_length=128, required=False)
    law_firm = forms.CharField(label=_("律师事务所"), max_length=128, required=False)
    note = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class LegalFilterForm(EstateFilterForm):
    kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=_choices(_("全部类型"), LegalKind.choices)
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=_choices(_("全部状态"), LegalStatus.choices)
    )

    def filter(self, matters: QuerySet[LegalMatter]) -> QuerySet[LegalMatter]:
        values = self.values()
        if "estate" in values:
            matters = matters.filter(unit__estate_id=values["estate"].pk)
        if "kind" in values:
            matters = matters.filter(kind=values["kind"])
        if "status" in values:
            matters = matters.filter(status=values["status"])
        return matters


class LegalStepForm(BootstrapMixin, forms.Form):
    """The next step of the pipeline, dated; a filing carries the docket number."""

    to_status = forms.ChoiceField(label=_("下一步"))
    on = forms.DateField(label=_("日期"), widget=_date_input())
    docket_no = forms.CharField(label=_("案号"), max_length=64, required=False)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args: Any, statuses: list[str], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("on", timezone.localdate())
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["to_status"])
        field.choices = [(s, LegalStatus(s).label) for s in statuses]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("to_status") == LegalStatus.FILED and not (data.get("docket_no") or "").strip():
            self.add_error("docket_no", _("立案请填写案号。"))
        return data


class LegalAmountsForm(BootstrapMixin, forms.Form):
    claim = _yuan(_("主张金额(元)"))
    court_fee = _yuan(_("诉讼费(元)"), required=False)
    lawyer_fee = _yuan(_("律师费(元)"))
    recovered = _yuan(_("已回收金额(元)"))


class EvidenceForm(forms.Form):
    """One checkbox per manual evidence item."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, label in EVIDENCE_ITEMS:
            self.fields[key] = forms.BooleanField(
                label=label,
                required=False,
                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
            )


# --- limitation ------------------------------------------------------------------------------


class LimitationFilterForm(EstateFilterForm):
    within_days = forms.TypedChoiceField(
        label=_("届满期限"),
        required=False,
        coerce=int,
        choices=[("30", _("30天内")), ("60", _("60天内")), (str(WARNING_DAYS), _("90天内"))],
    )
    include_expired = forms.BooleanField(label=_("包含已届满"), required=False)
    as_of = forms.DateField(label=_("统计日期"), required=False, widget=_date_input())

    def as_of_day(self) -> dt.date:
        return self.values().get("as_of") or timezone.localdate()

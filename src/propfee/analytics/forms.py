"""The filters of the report pages (报表筛选). Each form also resolves the page's defaults (统计日期
today, 计费月份 this month, 统计区间 this year to date), so a view asks the form, never the GET."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from propfee.analytics.selectors import ARREARS_ORDERS, report_estates
from propfee.billing.periods import PeriodError, period_label, period_parse
from propfee.core.identifiers import id_parse
from propfee.core.models import User
from propfee.estates.models import Building, Estate
from propfee.estates.selectors import buildings_visible_to
from propfee.ledger.engine import AGING_BUCKETS
from propfee.web.forms import FilterForm

_DATE = {"type": "date"}


def _date_field(label: Any) -> forms.DateField:
    return forms.DateField(label=label, required=False, widget=forms.DateInput(attrs=_DATE))


@dataclass(frozen=True)
class ReportWhere:
    """What a report covers once the filters and defaults are resolved."""

    as_of: dt.date
    estate: Estate | None
    building: Building | None

    def described(self) -> dict[str, str]:
        """The lines of the export's 导出说明 sheet."""
        about = {"统计日期": f"{self.as_of:%Y-%m-%d}"}
        about["项目"] = self.estate.name if self.estate else "全部项目"
        if self.building is not None:
            about["楼栋"] = self.building.name
        return about


class ReportFilterForm(FilterForm):
    """项目, 楼栋 (the buildings of the chosen estate, reloaded by htmx) and 统计日期."""

    estate: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("项目"), queryset=None, required=False, empty_label=_("全部项目")
    )
    building: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("楼栋"), queryset=None, required=False, empty_label=_("全部楼栋")
    )
    as_of = _date_field(_("统计日期"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        estate_field = cast(forms.ModelChoiceField, self.fields["estate"])
        estate_field.queryset = report_estates(user=user)
        estate_field.widget.attrs.update(
            {
                "hx-get": reverse("web:building_options"),
                "hx-target": "#id_building",
                "hx-trigger": "change",
            }
        )
        estate_id = id_parse(self.data.get("estate")) if self.is_bound else None
        cast(forms.ModelChoiceField, self.fields["building"]).queryset = (
            buildings_visible_to(user).filter(estate_id=estate_id).order_by("code")
            if estate_id
            else buildings_visible_to(user).none()
        )

    def where(self) -> ReportWhere:
        values = self.values()
        return ReportWhere(
            as_of=values.get("as_of") or timezone.localdate(),
            estate=values.get("estate"),
            building=values.get("building"),
        )


class ArrearsFilterForm(ReportFilterForm):
    """The arrears list adds the unit code search, the aging bucket and the order."""

    q = forms.CharField(
        label=_("房屋编码"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"placeholder": "DEMO-3-1502"}),
    )
    bucket = forms.ChoiceField(
        label=_("账龄(天)"),
        required=False,
        choices=[("", _("全部账龄")), *((label, label) for label, _f, _l in AGING_BUCKETS)],
    )
    order = forms.ChoiceField(
        label=_("排序"),
        required=False,
        choices=list(
            zip(
                ARREARS_ORDERS,
                [
                    _("欠费金额从高到低"),
                    _("欠费金额从低到高"),
                    _("逾期天数从长到短"),
                    _("逾期天数从短到长"),
                ],
                strict=True,
            )
        ),
    )

    field_order = ["q", "estate", "building", "bucket", "as_of", "order"]


class BuildingArrearsFilterForm(ReportFilterForm):
    """楼栋欠费 is always about one estate: the building filter does not apply."""

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        del self.fields["building"]
        estate_field = cast(forms.ModelChoiceField, self.fields["estate"])
        estate_field.empty_label = None
        for name in ("hx-get", "hx-target", "hx-trigger"):
            estate_field.widget.attrs.pop(name, None)

    def where(self) -> ReportWhere:
        where = super().where()
        estate = where.estate or report_estates(user=self.user).first()
        return ReportWhere(as_of=where.as_of, estate=estate, building=None)


@dataclass(frozen=True)
class RateWhere:
    """What the 收缴率 page covers once the filters and defaults are resolved."""

    period: str
    start: dt.date
    end: dt.date
    as_of: dt.date
    estate: Estate | None

    def described(self) -> dict[str, str]:
        return {
            "项目": self.estate.name if self.estate else "全部项目",
            "计费月份": self.period,
            "统计区间": f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}",
            "统计日期": f"{self.as_of:%Y-%m-%d}",
        }


class RateFilterForm(FilterForm):
    """项目, 计费月份 P (当期 and 户数收缴率), the window [开始日期, 结束日期]
    (清欠率 and 综合收缴率) and 统计日期."""

    estate: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("项目"), queryset=None, required=False, empty_label=_("全部项目")
    )
    period = forms.CharField(
        label=_("计费月份"),
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"placeholder": "2026-11"}),
    )
    start = _date_field(_("开始日期"))
    end = _date_field(_("结束日期"))
    as_of = _date_field(_("统计日期"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["estate"]).queryset = report_estates(user=user)

    def clean_period(self) -> str:
        value = self.cleaned_data["period"].strip()
        if not value:
            return ""
        try:
            return period_label(period_parse(value))
        except PeriodError as error:
            raise forms.ValidationError(str(error)) from error

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", _("结束日期不能早于开始日期"))
        return cleaned

    def where(self) -> RateWhere:
        values = self.values()
        as_of = values.get("as_of") or timezone.localdate()
        end = values.get("end") or as_of
        start = values.get("start") or end.replace(month=1, day=1)
        if start > end:
            start = end.replace(month=1, day=1)
        return RateWhere(
            period=values.get("period") or f"{as_of:%Y-%m}",
            start=start,
            end=end,
            as_of=as_of,
            estate=values.get("estate"),
        )

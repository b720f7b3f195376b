"""Forms of the 文书 pages: generating a document, recording a delivery, uploading a contract,
the list's filters, batch printing and the public arrears list."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from propfee.core.models import User
from propfee.core.uploads import UploadKind, upload_check
from propfee.documents.constants import (
    MAX_DEADLINE_DAYS,
    MIN_DEADLINE_DAYS,
    UNIT_RENDERED_KINDS,
    DeliveryMethod,
    DocumentKind,
)
from propfee.documents.models import DeliveryEvidence, Document
from propfee.estates.selectors import estates_visible_to
from propfee.web.forms import BootstrapMixin, FilterForm

# ISO dates: a date input shows nothing for the locale's 2026/05/06 (and then cannot be sent).
_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
#: What the file chooser offers; the content decides (core.uploads).
ACCEPT_DOCUMENTS = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


class DocumentGenerateForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("文书类型"),
        choices=[(k.value, k.label) for k in UNIT_RENDERED_KINDS],
    )
    deadline_days = forms.IntegerField(
        label=_("缴费期限（天）"),
        required=False,
        min_value=MIN_DEADLINE_DAYS,
        max_value=MAX_DEADLINE_DAYS,
        help_text=_("留空按默认：催缴通知书、催告函、督促函15天，律师函7天"),
    )


class DeliveryForm(BootstrapMixin, forms.Form):
    method = forms.ChoiceField(label=_("送达方式"), choices=DeliveryMethod.choices)
    delivered_on = forms.DateField(label=_("送达日期"), widget=_DATE)
    recipient = forms.CharField(label=_("签收人"), max_length=64, required=False)
    tracking_no = forms.CharField(label=_("EMS单号"), max_length=64, required=False)
    reference = forms.CharField(label=_("电子送达回执号"), max_length=128, required=False)
    file = forms.FileField(
        label=_("签收回执照片或扫描件"),
        required=False,
        help_text=_("当面送达必须上传；EMS可上传妥投记录截图（PDF、JPG 或 PNG）"),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT_DOCUMENTS}),
    )
    note = forms.CharField(label=_("备注"), max_length=500, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["delivered_on"].initial = timezone.localdate()

    def clean_file(self) -> Any:
        file = self.cleaned_data.get("file")
        if file:
            upload_check(file, kind=UploadKind.EVIDENCE)
        return file


class ContractUploadForm(BootstrapMixin, forms.Form):
    title = forms.CharField(label=_("名称"), max_length=128, initial=_("物业服务合同"))
    file = forms.FileField(
        label=_("合同扫描件"),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT_DOCUMENTS}),
    )

    def clean_file(self) -> Any:
        file = self.cleaned_data["file"]
        upload_check(file, kind=UploadKind.CONTRACT)
        return file


class DocumentFilterForm(FilterForm):
    q = forms.CharField(label=_("房屋编码或文书编号"), required=False, max_length=96)
    estate: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("项目"), queryset=None, required=False, empty_label=_("全部项目")
    )
    kind = forms.ChoiceField(
        label=_("文书类型"), required=False, choices=[("", _("全部类型")), *DocumentKind.choices]
    )
    delivered = forms.ChoiceField(
        label=_("送达"),
        required=False,
        choices=[("", _("全部")), ("yes", _("已送达")), ("no", _("未送达"))],
    )
    created_from = forms.DateField(label=_("生成日期从"), required=False, widget=_DATE)
    created_to = forms.DateField(label=_("至"), required=False, widget=_DATE)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        estate_field = cast(forms.ModelChoiceField, self.fields["estate"])
        estate_field.queryset = estates_visible_to(user).order_by("code")

    def filter(self, documents: QuerySet[Document]) -> QuerySet[Document]:
        values = self.values()
        if query := values.get("q", "").strip():
            documents = documents.filter(
                Q(unit__code__startswith=query.upper()) | Q(number__startswith=query.upper())
            )
        if estate := values.get("estate"):
            documents = documents.filter(estate=estate)
        if kind := values.get("kind"):
            documents = documents.filter(kind=kind)
        delivered = Exists(DeliveryEvidence.objects.filter(document=OuterRef("pk")))
        if values.get("delivered") == "yes":
            documents = documents.filter(delivered)
        elif values.get("delivered") == "no":
            documents = documents.filter(~delivered)
        tz = timezone.get_current_timezone()
        if start := values.get("created_from"):
            documents = documents.filter(
                created_at__gte=dt.datetime.combine(start, dt.time.min, tzinfo=tz)
            )
        if end := values.get("created_to"):
            documents = documents.filter(
                created_at__lt=dt.datetime.combine(
                    end + dt.timedelta(days=1), dt.time.min, tzinfo=tz
                )
            )
        return documents


class BatchForm(BootstrapMixin, forms.Form):
    estate: forms.ModelChoiceField = forms.ModelChoiceField(label=_("项目"), queryset=None)
    as_of = forms.DateField(label=_("欠费截至日期"), widget=_DATE)
    deadline_days = forms.IntegerField(
        label=_("缴费期限（天）"),
        initial=15,
        min_value=MIN_DEADLINE_DAYS,
        max_value=MAX_DEADLINE_DAYS,
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["estate"]).queryset = estates_visible_to(
            user
        ).order_by("code")
        self.fields["as_of"].initial = timezone.localdate()


class PublicNoticeForm(BootstrapMixin, forms.Form):
    estate: forms.ModelChoiceField = forms.ModelChoiceField(label=_("项目"), queryset=None)
    legal_basis = forms.CharField(
        label=_("公示依据"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("如业主大会决议、管理规约条款"),
    )
    purpose = forms.CharField(
        label=_("影响评估：公示目的"), widget=forms.Textarea(attrs={"rows": 2})
    )
    necessity = forms.CharField(
        label=_("影响评估：必要性"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("为什么其他催收方式不足以达到目的"),
    )
    risks = forms.CharField(
        label=_("影响评估：对个人权益的影响及风险"), widget=forms.Textarea(attrs={"rows": 2})
    )
    measures = forms.CharField(
        label=_("影响评估：保护措施"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("如只列房号、公示期限、缴清即撤下、不公示分期和有争议的房屋"),
    )
    display_from = forms.DateField(label=_("公示开始日期"), widget=_DATE)
    display_until = forms.DateField(label=_("公示结束日期"), widget=_DATE)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["estate"]).queryset = estates_visible_to(
            user
        ).order_by("code")

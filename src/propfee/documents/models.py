"""Documents domain: Document 文书 (a rendered or uploaded file with its exact words and
parameters, its SHA-256 and who made it), DocumentBatch 批量打印 (one print-ready PDF of many
notices) and DeliveryEvidence 送达凭证 (how and when a document reached the payer)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from propfee.core.models import User
from propfee.documents.constants import DeliveryMethod, DocumentKind
from propfee.estates.models import Estate, Unit
from propfee.payments.models import Payment


def document_upload_to(instance: Document, filename: str) -> str:
    today = timezone.localdate()
    return f"documents/{instance.estate_id}/{today:%Y/%m}/{filename}"


def batch_upload_to(instance: DocumentBatch, filename: str) -> str:
    today = timezone.localdate()
    return f"documents/{instance.estate_id}/batches/{today:%Y/%m}/{filename}"


def evidence_upload_to(instance: DeliveryEvidence, filename: str) -> str:
    today = timezone.localdate()
    return f"documents/evidence/{today:%Y/%m}/{instance.document_id}-{filename}"


class DocumentBatch(models.Model):
    """One print-ready PDF of many documents of one kind, one per page in route order
    (楼栋、楼层、房号). Its documents point at it with their page number."""

    kind = models.CharField(_("文书类型"), max_length=24, choices=DocumentKind.choices)
    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(_("文件"), upload_to=batch_upload_to, max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    page_count = models.PositiveIntegerField(_("页数"))
    document_count = models.PositiveIntegerField(_("份数"))
    as_of = models.DateField(_("截至日期"))
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("批量打印")
        verbose_name_plural = _("批量打印")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.document_count}"


class Document(models.Model):
    """A document (文书): rendered by propfee (notice, letters, statement, receipt, public
    notice) or uploaded (the service contract). `text` holds its exact words and `params` the
    facts it was written from (amounts, dates, the content as JSON); `sha256` is the hash of
    its own file, or of its batch's file when it was printed in a batch (`batch`, `page`)."""

    kind = models.CharField(_("文书类型"), max_length=24, choices=DocumentKind.choices)
    number = models.CharField(_("文书编号"), max_length=64, blank=True, db_index=True)
    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("标题"), max_length=128)
    file = models.FileField(_("文件"), upload_to=document_upload_to, max_length=255, blank=True)
    content_type = models.CharField(max_length=100, default="application/pdf")
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("大小"), default=0)
    batch = models.ForeignKey(
        DocumentBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    page = models.PositiveIntegerField(_("页码"), null=True, blank=True)
    amount_fen = models.BigIntegerField(_("金额"), null=True, blank=True)
    deadline = models.DateField(_("缴费期限"), null=True, blank=True)
    text = models.TextField(_("文书内容"), blank=True)
    params = models.JSONField(_("生成参数"), default=dict, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("文书")
        verbose_name_plural = _("文书")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["unit", "kind"], name="document_unit_kind_idx"),
            models.Index(fields=["estate", "created_at"], name="document_estate_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(batch__isnull=True) | Q(page__isnull=False),
                name="document_batch_has_page",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}".strip()


class DeliveryEvidence(models.Model):
    """How a document reached the payer (送达凭证): in person with a photo or scan of the
    signed acknowledgment, by EMS with its tracking number, or electronically with the
    platform's receipt reference. A delivered demand restarts the limitation clock."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="deliveries")
    method = models.CharField(_("送达方式"), max_length=16, choices=DeliveryMethod.choices)
    delivered_on = models.DateField(_("送达日期"))
    recipient = models.CharField(_("签收人"), max_length=64, blank=True)
    tracking_no = models.CharField(_("EMS单号"), max_length=64, blank=True)
    reference = models.CharField(_("电子送达回执号"), max_length=128, blank=True)
    file = models.FileField(_("凭证文件"), upload_to=evidence_upload_to, max_length=255, blank=True)
    sha256 = models.CharField(_("凭证SHA-256"), max_length=64, blank=True)
    note = models.CharField(_("备注"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("送达凭证")
        verbose_name_plural = _("送达凭证")
        ordering = ["delivered_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(method=DeliveryMethod.EMS) | ~Q(tracking_no=""),
                name="delivery_ems_tracking_required",
            ),
            models.CheckConstraint(
                condition=~Q(method=DeliveryMethod.ELECTRONIC) | ~Q(reference=""),
                name="delivery_electronic_reference_required",
            ),
            models.CheckConstraint(
                condition=~Q(method=DeliveryMethod.IN_PERSON) | ~Q(file=""),
                name="delivery_in_person_file_required",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} · {self.delivered_on:%Y-%m-%d}"


class PublicNoticeRequest(models.Model):
    """A request to publish an estate's public arrears list (欠费公示申请): its legal basis and
    the written personal-information impact assessment (个人信息保护影响评估, 个人信息保护法
    arts. 55–56: purpose, necessity, risks, measures), the display period (≤ 30 days), and the
    approval by someone other than the requester. The approved list is `document`."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    legal_basis = models.CharField(_("公示依据"), max_length=500)
    purpose = models.TextField(_("公示目的"))
    necessity = models.TextField(_("必要性"))
    risks = models.TextField(_("对个人权益的影响及风险"))
    measures = models.TextField(_("保护措施"))
    display_from = models.DateField(_("公示开始日期"))
    display_until = models.DateField(_("公示结束日期"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.REQUESTED
    )
    requested_by = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("申请人")
    )
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    decided_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("审批人"),
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=500, blank=True)
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("欠费公示申请")
        verbose_name_plural = _("欠费公示申请")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(display_until__gte=F("display_from")),
                name="public_notice_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.estate_id} 欠费公示 {self.display_from:%Y-%m-%d}"

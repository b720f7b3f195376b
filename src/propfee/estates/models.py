"""Estates domain: Company 物业公司, Estate 项目, Building 楼栋, Unit 房屋, Party 业主/租户,
PartyPhone, Occupancy (who occupies or pays for which unit, and since when)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from propfee.core.models import TimeStampedModel
from propfee.estates.constants import PartyRole, UnitStatus, UnitType


class Company(TimeStampedModel):
    """A property-management company (物业公司); every estate and staff user belongs to one."""

    code = models.CharField(_("公司编码"), max_length=32, unique=True)
    name = models.CharField(_("公司名称"), max_length=128)
    #: 个人信息保存期限: years after a departed party's last charge is settled (or their last
    #: occupancy ended, if later) before `propfee privacy purge` anonymises them (个保法 art. 19).
    personal_data_retention_years = models.PositiveSmallIntegerField(
        _("个人信息保存年限"), default=3
    )
    #: 欠费公示 is off until a company admin turns it on (个人信息保护法 arts. 25, 55).
    public_list_enabled = models.BooleanField(_("启用欠费公示"), default=False)

    class Meta:
        verbose_name = _("物业公司")
        verbose_name_plural = _("物业公司")

    def __str__(self) -> str:
        return self.name


class Estate(TimeStampedModel):
    """A managed estate (项目/小区), identified by a short code such as `DEMO`."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="estates")
    code = models.CharField(_("项目编码"), max_length=32)
    name = models.CharField(_("项目名称"), max_length=128)
    city = models.CharField(_("城市"), max_length=64, blank=True)
    address = models.CharField(_("地址"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("项目")
        verbose_name_plural = _("项目")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="estate_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Building(TimeStampedModel):
    """A building (楼栋) of an estate; shops and parking levels are buildings too."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="buildings")
    code = models.CharField(_("楼栋编码"), max_length=32)
    name = models.CharField(_("楼栋名称"), max_length=64)

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        ordering = ["estate_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["estate", "code"], name="building_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Unit(TimeStampedModel):
    """A unit (房屋): flat, shop, office or parking space; its code is `ESTATE-BUILDING-ROOM`."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="units")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="units")
    entrance = models.CharField(_("单元"), max_length=16, blank=True)
    room = models.CharField(_("房号"), max_length=32)
    # db_index: on PostgreSQL Django adds a pattern-ops index too, for search by code prefix.
    code = models.CharField(_("房屋编码"), max_length=96, db_index=True)
    floor = models.SmallIntegerField(_("楼层"), null=True, blank=True)
    area_m2 = models.DecimalField(_("建筑面积(㎡)"), max_digits=10, decimal_places=2)
    unit_type = models.CharField(
        _("房屋类型"), max_length=16, choices=UnitType.choices, default=UnitType.RESIDENTIAL
    )
    handover_date = models.DateField(_("交房日期"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=UnitStatus.choices, default=UnitStatus.OCCUPIED
    )

    class Meta:
        verbose_name = _("房屋")
        verbose_name_plural = _("房屋")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["estate", "code"], name="unit_code_unique"),
            models.CheckConstraint(condition=Q(area_m2__gt=0), name="unit_area_positive"),
        ]
        indexes = [
            models.Index(fields=["building", "floor", "room"], name="unit_route_idx"),
        ]

    def __str__(self) -> str:
        return self.code


class Party(TimeStampedModel):
    """A person or organisation that owns, rents or pays for units (业主/租户/共有人/开发商)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="parties")
    name = models.CharField(_("姓名"), max_length=128, db_index=True)
    is_organization = models.BooleanField(_("单位"), default=False)
    email = models.EmailField(_("邮箱"), blank=True)
    id_number = models.CharField(_("证件号"), max_length=32, blank=True)
    #: Set when the retention period ran out and the personal data was removed (已注销).
    anonymised_at = models.DateTimeField(_("个人信息删除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("业主/住户")
        verbose_name_plural = _("业主/住户")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class PartyPhone(models.Model):
    """One phone number of a party. `number_reversed` makes search by the last digits an
    indexed prefix match."""

    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("手机"), max_length=20)
    number_reversed = models.CharField(max_length=20, db_index=True, editable=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("电话")
        verbose_name_plural = _("电话")
        ordering = ["party_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["party", "number"], name="partyphone_unique"),
        ]

    def __str__(self) -> str:
        return self.number


class Occupancy(TimeStampedModel):
    """A party's relation to a unit over time (产权/租住关系); `until` is null while current.
    At most one current occupancy of a unit is its payer (缴费人)."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="occupancies")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="occupancies")
    role = models.CharField(_("身份"), max_length=16, choices=PartyRole.choices)
    is_payer = models.BooleanField(_("缴费人"), default=False)
    since = models.DateField(_("起始日期"))
    until = models.DateField(_("结束日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("住户关系")
        verbose_name_plural = _("住户关系")
        ordering = ["unit_id", "-since", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(is_payer=True, until__isnull=True),
                name="one_current_payer_per_unit",
            ),
            models.UniqueConstraint(
                fields=["unit", "party", "role"],
                condition=Q(until__isnull=True),
                name="one_current_occupancy_per_role",
            ),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=models.F("since")),
                name="occupancy_dates_ordered",
            ),
        ]
        indexes = [models.Index(fields=["party", "until"], name="occupancy_party_idx")]

    def __str__(self) -> str:
        return f"{self.party} · {self.unit} · {self.get_role_display()}"

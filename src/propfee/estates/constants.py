"""Choices of the estates domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitType(models.TextChoices):
    RESIDENTIAL = "residential", _("住宅")
    SHOP = "shop", _("商铺")
    PARKING = "parking", _("车位")
    OFFICE = "office", _("办公")


class UnitStatus(models.TextChoices):
    OCCUPIED = "occupied", _("已入住")
    VACANT = "vacant", _("空置")
    RENOVATING = "renovating", _("装修中")


class PartyRole(models.TextChoices):
    OWNER = "owner", _("业主")
    TENANT = "tenant", _("租户")
    CO_OWNER = "co_owner", _("共有人")
    DEVELOPER = "developer", _("开发商")


# Roles that hold title to a unit: an ownership transfer closes all of them.
TITLE_ROLES = (PartyRole.OWNER, PartyRole.CO_OWNER, PartyRole.DEVELOPER)

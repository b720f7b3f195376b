"""Choices of the ledger domain; the values are the engine's component names."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from propfee.ledger import engine


class Component(models.TextChoices):
    PRINCIPAL = engine.PRINCIPAL, _("本金")
    PENALTY = engine.PENALTY, _("违约金")


class WaiverStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    REVERSED = "reversed", _("已撤销")

"""Fee items, tariffs and contract versions: validation, and changes from their date only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from propfee.billing.constants import TariffBasis
from propfee.billing.models import ContractVersion, Tariff
from propfee.billing.selectors import contract_terms_on, tariff_for
from propfee.billing.services import (
    BillingError,
    billing_run_post,
    contract_version_create,
    fee_item_create,
    tariff_create,
)
from propfee.core.models import AuditEntry
from propfee.core.roles import PermissionDenied
from propfee.estates.constants import UnitType
from tests.billing.conftest import START


def _tariff(fee_item, estate, rate, effective_from, **kwargs):
    kwargs.setdefault("unit_type", UnitType.RESIDENTIAL)
    kwargs.setdefault("basis", TariffBasis.PER_M2_MONTH)
    kwargs.setdefault("actor", None)
    return tariff_create(
        fee_item=fee_item,
        estate=estate,
        rate_yuan=Decimal(rate),
        effective_from=effective_from,
        **kwargs,
    )


def test_fee_item_code_unique(company, fee_item):
    with pytest.raises(BillingError, match="收费项目编码已存在：WYF"):
        fee_item_create(company=company, code="wyf", name="物业费", actor=None)


def test_rate_change_ends_the_current_tariff(fee_item, estate, tariff):
    new = _tariff(fee_item, estate, "2.6000", dt.date(2026, 7, 1))
    tariff.refresh_from_db()
    assert tariff.effective_to == dt.date(2026, 6, 30)
    on = {"fee_item": fee_item, "estate": estate, "unit_type": UnitType.RESIDENTIAL}
    assert tariff_for(**on, on=dt.date(2026, 6, 30)) == tariff
    assert tariff_for(**on, on=dt.date(2026, 7, 1)) == new
    assert tariff_for(**on, on=dt.date(2025, 12, 31)) is None
    assert AuditEntry.objects.filter(object_type="billing.tariff", action="update").count() == 1


@pytest.mark.parametrize("day", [START, dt.date(2025, 6, 1)])
def test_tariff_overlapping_or_before_the_current_refused(fee_item, estate, tariff, day):
    with pytest.raises(BillingError, match="新收费标准须晚于现行标准的生效日期（2026-01-01）"):
        _tariff(fee_item, estate, "2.60", day)
    assert Tariff.objects.count() == 1


def test_tariff_reaching_a_billed_period_refused(fee_item, estate, billable, unit):
    billing_run_post(estate=estate, period="2026-03", actor=None)
    with pytest.raises(BillingError, match="2026-03-15 之后的期间已经计费"):
        _tariff(fee_item, estate, "2.60", dt.date(2026, 3, 15))
    # From the first unbilled month it is accepted.
    assert _tariff(fee_item, estate, "2.60", dt.date(2026, 4, 1)).rate_yuan == Decimal("2.60")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rate": "2.35001"}, "单价最多保留4位小数"),
        ({"rate": "0"}, "单价必须大于0"),
        ({"basis": TariffBasis.PER_SPACE_MONTH}, "按车位计费只适用于车位"),
        ({"vacancy_discount_ratio": Decimal("1.5")}, "空置优惠比例应在0到1之间"),
    ],
)
def test_tariff_validation(fee_item, estate, kwargs, message):
    rate = kwargs.pop("rate", "2.35")
    with pytest.raises(BillingError, match=message):
        _tariff(fee_item, estate, rate, START, **kwargs)


def test_tariff_of_another_company_refused(fee_item, estate):
    from tests.factories import EstateFactory

    foreign = EstateFactory(code="XX")
    with pytest.raises(BillingError, match="不属于同一物业公司"):
        _tariff(fee_item, foreign, "2.35", START)


def test_contract_versions_apply_from_their_date(estate, contract):
    later = contract_version_create(
        estate=estate,
        effective_from=dt.date(2026, 7, 1),
        billing_cycle_months=3,
        penalty_daily_rate=Decimal("0.0003"),
        actor=None,
    )
    assert contract_terms_on(estate=estate, day=dt.date(2026, 6, 30)) == contract
    assert contract_terms_on(estate=estate, day=dt.date(2026, 7, 1)) == later
    assert contract_terms_on(estate=estate, day=dt.date(2025, 12, 31)) is None
    assert contract.penalty_daily_rate == Decimal("0.0005")  # 万分之五 by default
    assert contract.grace_days == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"effective_from": START}, "合同条款须晚于最新版本的生效日期（2026-01-01）"),
        ({"effective_from": dt.date(2025, 1, 1)}, "合同条款须晚于最新版本的生效日期"),
        ({"effective_from": dt.date(2026, 7, 15)}, "合同条款须从某月1日起生效"),
        ({"billing_cycle_months": 2}, "缴费周期只能是1、3、6、12个月：2"),
        ({"due_day": 31}, "缴费日应在1到28日之间：31"),
        ({"grace_days": -1}, "宽限天数不能为负数"),
        ({"allocation_order": "whatever"}, "未知的核销顺序"),
    ],
)
def test_contract_version_validation(estate, contract, kwargs, message):
    kwargs.setdefault("effective_from", dt.date(2026, 7, 1))
    with pytest.raises(BillingError, match=message):
        contract_version_create(estate=estate, actor=None, **kwargs)
    assert ContractVersion.objects.count() == 1


def test_contract_version_reaching_a_billed_period_refused(estate, billable, unit):
    billing_run_post(estate=estate, period="2026-03", actor=None)
    with pytest.raises(BillingError, match="2026-03-01 之后的期间已经计费，合同条款不能追溯"):
        contract_version_create(estate=estate, effective_from=dt.date(2026, 3, 1), actor=None)


def test_setup_needs_the_billing_capability(company, estate, fee_item, collector, finance):
    with pytest.raises(PermissionDenied):
        fee_item_create(company=company, code="TCF", name="停车管理费", actor=collector)
    with pytest.raises(PermissionDenied):
        contract_version_create(estate=estate, effective_from=START, actor=collector)
    version = contract_version_create(estate=estate, effective_from=START, actor=finance)
    assert AuditEntry.objects.get(object_type="billing.contractversion").actor == finance
    assert version.contract.name == "阳光花园物业服务合同"


def test_finance_cannot_set_up_an_estate_outside_its_scope(fee_item, other_estate, finance):
    with pytest.raises(PermissionDenied):
        _tariff(fee_item, other_estate, "2.35", START, actor=finance)

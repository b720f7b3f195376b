"""`propfee privacy purge`: the personal data of people who left, owe nothing and are past the
company's retention period (default 3 years after their last charge was settled, or their last
occupancy ended if later) is removed; everyone else is kept; the ledger is untouched.

Worked examples, as of 2030-07-01 with the default 3 years (cut-off: settled by 2027-07-01):
- 甲 left 2026-06-30 and paid everything that day        → purged (retention ended 2029-06-30);
- 乙 left 2026-06-30 owing January's ¥100               → kept (owes principal);
- 丙 left 2026-06-30, principal waived, penalty unpaid   → kept (owes ¥2.95 penalty);
- 丁 left 2028-06-30, everything paid                   → kept (retention ends 2031-06-30);
- 戊 still lives in her flat                            → kept;
- 己 left one flat in 2026 but still rents another       → kept.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from propfee.collection.privacy import privacy_purge
from propfee.core.models import AuditAction, AuditEntry
from propfee.core.services import REDACTED
from propfee.estates.constants import PartyRole
from propfee.estates.models import Occupancy, Party, PartyPhone
from propfee.estates.services import (
    ANONYMISED_NAME,
    NewParty,
    ownership_transfer,
    party_create,
)
from propfee.ledger.constants import Component
from propfee.ledger.models import Allocation, Waiver
from propfee.ledger.selectors import statement_for_unit, statement_json
from propfee.messaging.constants import Channel, MessageStatus
from propfee.messaging.models import Message
from tests.factories import UnitFactory
from tests.payments.conftest import (  # noqa: F401
    contract,
    fee_item,
    make_charge,
    pay,
)

D = dt.date
ONE_DAY = dt.timedelta(days=1)
SINCE = dt.date(2025, 1, 1)
AS_OF = D(2030, 7, 1)
LEFT = D(2026, 6, 30)


def _resident(company, unit, name, phone, *, until, since=SINCE, role=PartyRole.OWNER):
    party = party_create(
        company=company,
        name=name,
        phones=[phone],
        email=f"{phone}@example.cn",
        id_number="11010519491231002X",
        actor=None,
    )
    Occupancy.objects.create(
        unit=unit, party=party, role=role, is_payer=True, since=since, until=until
    )
    return party


def _six_months_paid(make_charge, pay, unit, party):  # noqa: F811
    """January to June 2026, each paid on its due date (no penalty); the last on 2026-06-30."""
    for month in range(1, 7):
        charge = make_charge(month=month, unit=unit, payer=party)
        pay(10000, charge.due_date, unit=unit, payer=party)


@pytest.fixture
def residents(company, building, make_charge, pay):  # noqa: F811
    units = {
        name: UnitFactory(building=building, room=room)
        for name, room in [
            ("甲", "101"),
            ("乙", "102"),
            ("丙", "103"),
            ("丁", "104"),
            ("戊", "105"),
            ("己", "106"),
            ("己2", "107"),
        ]
    }
    people = {}
    people["甲"] = _resident(company, units["甲"], "甲先生", "10000000001", until=None)
    _six_months_paid(make_charge, pay, units["甲"], people["甲"])
    # 甲 sold the flat: the transfer closes her occupancy on 2026-06-30 (logged on the unit).
    ownership_transfer(
        unit=units["甲"], new_owners=[NewParty(name="庚先生")], on=LEFT + ONE_DAY, actor=None
    )
    Message.objects.create(
        company=company,
        unit=units["甲"],
        party=people["甲"],
        recipient="10000000001",
        channel=Channel.SMS,
        body="甲先生您好，您的物业费已逾期，请于15日内缴纳。",
        status=MessageStatus.DELIVERED,
        key="test:jia",
    )

    people["乙"] = _resident(company, units["乙"], "乙女士", "10000000002", until=LEFT)
    make_charge(month=1, unit=units["乙"], payer=people["乙"])

    people["丙"] = _resident(company, units["丙"], "丙先生", "10000000003", until=LEFT)
    charge = make_charge(month=1, unit=units["丙"], payer=people["丙"])
    # Principal waived on 2026-03-31: 59 days × 10000 × 0.0005 = 295 → ¥2.95 penalty owed.
    Waiver.objects.create(
        charge=charge,
        component=Component.PRINCIPAL,
        amount_fen=10000,
        effective_on=D(2026, 3, 31),
        reason="测试",
    )

    people["丁"] = _resident(company, units["丁"], "丁女士", "10000000004", until=D(2028, 6, 30))
    _six_months_paid(make_charge, pay, units["丁"], people["丁"])

    people["戊"] = _resident(company, units["戊"], "戊女士", "10000000005", until=None)
    _six_months_paid(make_charge, pay, units["戊"], people["戊"])

    people["己"] = _resident(company, units["己"], "己先生", "10000000006", until=LEFT)
    _six_months_paid(make_charge, pay, units["己"], people["己"])
    Occupancy.objects.create(
        unit=units["己2"],
        party=people["己"],
        role=PartyRole.TENANT,
        is_payer=True,
        since=D(2026, 7, 1),
    )
    return units, people


def _personal(party_id):
    party = Party.objects.get(pk=party_id)
    phones = list(PartyPhone.objects.filter(party_id=party_id).values_list("number", flat=True))
    return party.name, party.email, party.id_number, phones, party.anonymised_at


def test_only_the_party_past_retention_is_anonymised(company, residents):
    units, people = residents
    statement_before = statement_json(statement_for_unit(unit=units["甲"], as_of=AS_OF))
    allocations_before = Allocation.objects.count()

    report = privacy_purge(company=company, as_of=AS_OF, actor=None)

    assert [e.party_id for e in report.eligible] == [people["甲"].pk]
    assert report.eligible[0].retention_from == LEFT
    assert report.eligible[0].retention_until == D(2029, 6, 30)
    assert (report.parties, report.phones, report.messages) == (1, 1, 1)
    name, email, id_number, phones, anonymised_at = _personal(people["甲"].pk)
    assert (name, email, id_number, phones) == (ANONYMISED_NAME, "", "", [])
    assert anonymised_at is not None
    for kept in ("乙", "丙", "丁", "戊", "己"):
        name, email, id_number, phones, anonymised_at = _personal(people[kept].pk)
        assert name == people[kept].name
        assert phones and email and id_number
        assert anonymised_at is None

    # The ledger is untouched: same statement, same allocations, charges still on the party.
    assert statement_json(statement_for_unit(unit=units["甲"], as_of=AS_OF)) == statement_before
    assert Allocation.objects.count() == allocations_before
    assert people["甲"].charges.count() == 6
    out = io.StringIO()
    call_command("ledger", "verify", stdout=out)
    assert "核销记录与重算结果一致" in out.getvalue()

    # The demand's text stays as evidence; its recipient is masked.
    message = Message.objects.get(key="test:jia")
    assert message.body.startswith("甲先生您好")
    assert message.recipient == "100****0001"


def test_the_audit_log_says_so_without_the_data(company, residents):
    _units, people = residents
    jia = people["甲"].pk
    privacy_purge(company=company, as_of=AS_OF, actor=None)

    row = AuditEntry.objects.get(action=AuditAction.ANONYMISE)
    assert (row.object_type, row.object_id) == ("estates.party", str(jia))
    assert row.estate_id == people["甲"].occupancies.get().unit.estate_id
    text = f"{row.object_repr} {row.before} {row.after} {row.note}"
    for secret in ("甲先生", "10000000001", "11010519491231002X", "@example.cn"):
        assert secret not in text
    # The earlier creation row no longer holds the data either; who and when stay.
    created = AuditEntry.objects.get(
        object_type="estates.party", object_id=str(jia), action=AuditAction.CREATE
    )
    assert created.after["name"] == REDACTED
    assert created.after["phones"] == REDACTED
    assert created.after["id_number"] == REDACTED
    assert "甲先生" not in created.object_repr
    transfer = AuditEntry.objects.get(action=AuditAction.TRANSFER)
    assert transfer.before["owners"][0]["name"] == REDACTED
    assert transfer.after["owners"][0]["name"] == "庚先生"  # the buyer is still here
    # Someone else's rows are untouched.
    other = AuditEntry.objects.get(
        object_type="estates.party", object_id=str(people["乙"].pk), action=AuditAction.CREATE
    )
    assert other.after["phones"] == ["10000000002"]


def test_dry_run_writes_nothing_and_a_rerun_changes_nothing(company, residents):
    _units, people = residents
    before = [_personal(p.pk) for p in people.values()]
    audit_before = AuditEntry.objects.count()

    preview = privacy_purge(company=company, as_of=AS_OF, actor=None, dry_run=True)
    assert [e.party_id for e in preview.eligible] == [people["甲"].pk]
    assert preview.parties == 0
    assert [_personal(p.pk) for p in people.values()] == before
    assert AuditEntry.objects.count() == audit_before

    privacy_purge(company=company, as_of=AS_OF, actor=None)
    after_first = [_personal(p.pk) for p in people.values()]
    audit_after_first = list(AuditEntry.objects.values_list("pk", "before", "after", "object_repr"))

    again = privacy_purge(company=company, as_of=AS_OF, actor=None)
    assert again.eligible == () and again.parties == 0
    assert [_personal(p.pk) for p in people.values()] == after_first
    assert (
        list(AuditEntry.objects.values_list("pk", "before", "after", "object_repr"))
        == audit_after_first
    )


def test_retention_period_is_the_companys(company, residents):
    _units, people = residents
    company.personal_data_retention_years = 5
    company.save()
    assert privacy_purge(company=company, as_of=AS_OF, actor=None, dry_run=True).eligible == ()
    company.personal_data_retention_years = 1
    company.save()
    eligible = privacy_purge(company=company, as_of=AS_OF, actor=None, dry_run=True).eligible
    # 丁 left 2028-06-30: with one year, her retention ended 2029-06-30.
    assert [e.party_id for e in eligible] == [people["甲"].pk, people["丁"].pk]


def test_command_prints_a_summary_and_dry_run_writes_nothing(company, residents):
    _units, people = residents
    out = io.StringIO()
    call_command("privacy", "purge", "--dry-run", "--as-of", "2030-07-01", stdout=out)
    assert "未写入任何数据" in out.getvalue()
    assert Party.objects.get(pk=people["甲"].pk).name == "甲先生"

    out = io.StringIO()
    call_command("privacy", "purge", "--company", company.code, "--as-of", "2030-07-01", stdout=out)
    assert "已删除 1 位" in out.getvalue()
    assert Party.objects.get(pk=people["甲"].pk).name == ANONYMISED_NAME


def test_the_purge_is_set_based(company, building, make_charge, pay, residents):  # noqa: F811
    """The queries do not grow with the number of parties purged."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        privacy_purge(company=company, as_of=AS_OF, actor=None)
    for n in range(4):
        unit = UnitFactory(building=building, room=f"3{n:02d}")
        party = _resident(company, unit, f"辛{n}", f"1000000010{n}", until=LEFT)
        _six_months_paid(make_charge, pay, unit, party)
    with CaptureQueriesContext(connection) as four:
        report = privacy_purge(company=company, as_of=AS_OF, actor=None)
    assert report.parties == 4
    assert len(four.captured_queries) <= len(one.captured_queries)


def test_an_anonymised_party_cannot_be_given_data_again(company, residents):
    from propfee.estates.services import EstatesError, party_update

    _units, people = residents
    privacy_purge(company=company, as_of=AS_OF, actor=None)
    party = Party.objects.get(pk=people["甲"].pk)
    with pytest.raises(EstatesError, match="已按保存期限删除"):
        party_update(party=party, actor=None, phones=["10000000001"])
    assert not PartyPhone.objects.filter(party=party).exists()

"""个人信息删除 (removing the personal data of people who left): the purge that
`propfee privacy purge` runs. Who qualifies is the ledger's rule (`propfee.ledger.retention`);
each app removes what it holds: the party's own data and phones (estates), the message
recipients (messaging). Ledger history, documents, contact records and message texts stay —
they are accounting records and evidence (docs/decisions.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from propfee.core.models import User
from propfee.core.roles import Capability, require
from propfee.estates.models import Company
from propfee.estates.services import parties_anonymise
from propfee.ledger.retention import PartyRetention, parties_past_retention
from propfee.messaging.services import messages_recipient_redact


@dataclass(frozen=True)
class PurgeReport:
    """What a purge found and (unless a dry run) did."""

    company: Company
    as_of: dt.date
    retention_years: int
    eligible: tuple[PartyRetention, ...]
    dry_run: bool
    parties: int = 0
    phones: int = 0
    messages: int = 0
    audit_rows_redacted: int = 0


def privacy_purge(
    *, company: Company, as_of: dt.date, actor: User | None, dry_run: bool = False
) -> PurgeReport:
    """Anonymise every party of `company` past its retention period on `as_of`, in one
    transaction; with `dry_run`, only say who would be. A re-run finds no one."""
    require(actor, Capability.MANAGE_COMPANY)
    eligible = tuple(parties_past_retention(company=company, as_of=as_of))
    report = PurgeReport(
        company=company,
        as_of=as_of,
        retention_years=company.personal_data_retention_years,
        eligible=eligible,
        dry_run=dry_run,
    )
    if dry_run or not eligible:
        return report
    ids = [e.party_id for e in eligible]
    with transaction.atomic():
        messages = messages_recipient_redact(party_ids=ids)
        done = parties_anonymise(
            party_ids=ids,
            actor=actor,
            note=f"个人信息保存期限（{report.retention_years}年）届满，截至 {as_of.isoformat()}",
        )
    return PurgeReport(
        company=company,
        as_of=as_of,
        retention_years=report.retention_years,
        eligible=eligible,
        dry_run=False,
        parties=done.parties,
        phones=done.phones,
        messages=messages,
        audit_rows_redacted=done.audit_rows_redacted,
    )

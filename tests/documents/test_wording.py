"""The wording guard on documents: the free text of notices and letters (payment instructions
and the law firm from the settings, the legal basis of a public list) is checked before a
document is made, for one unit, for a batch and for the public list."""

from __future__ import annotations

import datetime as dt

import pytest

from propfee.documents.constants import UNIT_RENDERED_KINDS, DocumentKind
from propfee.documents.models import Document, DocumentBatch, PublicNoticeRequest
from propfee.documents.public_list import public_notice_request_create
from propfee.documents.services import (
    DocumentError,
    document_render,
    notices_batch_render,
)
from tests.documents.conftest import AS_OF

THREAT = "请到物业服务中心前台缴纳；逾期未缴的，物业将暂停对您家的供水。"


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 5, 6, 10, 0, tzinfo=dt.UTC))


@pytest.mark.django_db
@pytest.mark.parametrize("kind", UNIT_RENDERED_KINDS)
def test_every_kind_of_document_passes_the_guard_as_written(kind, owing, legal):
    document = document_render(kind=kind, unit=owing, actor=legal, as_of=AS_OF)
    assert document.text


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [DocumentKind.NOTICE, DocumentKind.FINAL_DEMAND])
def test_a_threat_in_the_payment_instructions_refuses_the_document(
    kind, owing, collector, settings
):
    settings.PROPFEE_HOW_TO_PAY = THREAT
    with pytest.raises(DocumentError, match="“暂停对您家的供水”") as refused:
        document_render(kind=kind, unit=owing, actor=collector, as_of=AS_OF)
    assert "第九百四十四条" in str(refused.value)
    assert not Document.objects.exists()


@pytest.mark.django_db
def test_a_law_firm_that_threatens_arrest_refuses_the_letter(owing, legal, settings):
    settings.PROPFEE_LAW_FIRM = {
        **settings.PROPFEE_LAW_FIRM,
        "lawyer": "陈律（拒不缴纳者将被拘留）",
    }
    with pytest.raises(DocumentError, match="不实的法律后果"):
        document_render(kind=DocumentKind.LAWYER_LETTER, unit=owing, actor=legal, as_of=AS_OF)


@pytest.mark.django_db
def test_a_batch_with_a_threat_is_refused_whole(owing, collector, estate, settings):
    settings.PROPFEE_HOW_TO_PAY = THREAT
    with pytest.raises(DocumentError, match="暂停对您家的供水"):
        notices_batch_render(estate=estate, actor=collector, as_of=AS_OF)
    assert not DocumentBatch.objects.exists() and not Document.objects.exists()


@pytest.mark.django_db
def test_a_public_list_whose_basis_shames_people_is_refused(owing, manager, estate):
    estate.company.public_list_enabled = True
    estate.company.save(update_fields=["public_list_enabled"])
    with pytest.raises(DocumentError, match="公开曝光"):
        public_notice_request_create(
            estate=estate,
            actor=manager,
            legal_basis="业主大会决议；逾期不缴的业主姓名和电话一并公示",
            purpose="督促长期欠费业主履行缴费义务",
            necessity="多次催收无效，经业主大会表决同意公示",
            risks="公示可能影响欠费业主的名誉",
            measures="只公示房号、欠费月数和金额，公示期满即撤下",
            display_from=dt.date(2026, 5, 6),
            display_until=dt.date(2026, 5, 20),
        )
    assert not PublicNoticeRequest.objects.exists() and not Document.objects.exists()

"""送达凭证: recording how a demand reached the payer, and the delivered demands per unit that
the collection engine reads for limitation restarts."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from propfee.documents.constants import DeliveryMethod, DocumentKind
from propfee.documents.models import DeliveryEvidence
from propfee.documents.selectors import demands_delivered_for_units
from propfee.documents.services import DocumentError, delivery_record, document_render
from tests.documents.conftest import AS_OF

PHOTO = b"\x89PNG\r\n\x1a\n signed acknowledgment"


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 5, 6, 10, 0, tzinfo=dt.UTC))


@pytest.fixture
def notice(owing, collector):
    return document_render(kind=DocumentKind.NOTICE, unit=owing, actor=collector, as_of=AS_OF)


def test_in_person_with_photo(notice, collector):
    evidence = delivery_record(
        document=notice,
        method=DeliveryMethod.IN_PERSON,
        delivered_on=dt.date(2026, 5, 6),
        recipient="王建国",
        file=SimpleUploadedFile("签收.png", PHOTO, content_type="image/png"),
        actor=collector,
    )
    assert evidence.sha256 == hashlib.sha256(PHOTO).hexdigest()
    with evidence.file.open("rb") as f:
        assert f.read() == PHOTO
    assert evidence.recorded_by == collector


@pytest.mark.parametrize(
    ("method", "kwargs", "message"),
    [
        (DeliveryMethod.IN_PERSON, {}, "签收回执"),
        (DeliveryMethod.EMS, {}, "邮件单号"),
        (DeliveryMethod.ELECTRONIC, {}, "回执号"),
        (DeliveryMethod.EMS, {"tracking_no": "1", "delivered_on": dt.date(2026, 5, 7)}, "晚于今天"),
        (DeliveryMethod.EMS, {"tracking_no": "1", "delivered_on": dt.date(2026, 5, 1)}, "早于"),
    ],
)
def test_what_each_method_needs(notice, collector, method, kwargs, message):
    kwargs.setdefault("delivered_on", dt.date(2026, 5, 6))
    with pytest.raises(DocumentError, match=message):
        delivery_record(document=notice, method=method, actor=collector, **kwargs)
    assert not DeliveryEvidence.objects.exists()


def test_the_database_refuses_ems_without_tracking(notice):
    with pytest.raises(IntegrityError), transaction.atomic():
        DeliveryEvidence.objects.create(
            document=notice, method=DeliveryMethod.EMS, delivered_on=dt.date(2026, 5, 6)
        )


def test_delivered_demands_per_unit(
    notice, owing, other_unit, collector, django_assert_num_queries
):
    delivery_record(
        document=notice,
        method=DeliveryMethod.EMS,
        tracking_no="EA123456789CN",
        delivered_on=dt.date(2026, 5, 6),
        actor=collector,
    )
    statement = document_render(
        kind=DocumentKind.STATEMENT, unit=owing, actor=collector, as_of=AS_OF
    )
    delivery_record(
        document=statement,
        method=DeliveryMethod.ELECTRONIC,
        reference="WX-1",
        delivered_on=dt.date(2026, 5, 6),
        actor=collector,
    )
    with django_assert_num_queries(1):
        delivered = demands_delivered_for_units([owing.pk, other_unit.pk])
    # The statement is not a demand; the other unit has none.
    assert [(d.document_id, d.method, d.delivered_on) for d in delivered[owing.pk]] == [
        (notice.pk, DeliveryMethod.EMS, dt.date(2026, 5, 6))
    ]
    assert delivered[other_unit.pk] == []
    assert demands_delivered_for_units([owing.pk], on_or_before=dt.date(2026, 5, 5))[owing.pk] == []

"""Documents reads: the documents a user may see, the facts documents are written from for many
units at once (statements and addressees in a fixed number of queries), route order for batch
printing, and the demands delivered with evidence (for the collection engine's limitation
restarts)."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F, Prefetch, Q, QuerySet

from propfee.core.models import User
from propfee.core.roles import Capability, role_can
from propfee.documents.constants import DEMAND_KINDS, DocumentKind
from propfee.documents.models import DeliveryEvidence, Document
from propfee.documents.wording import Addressee
from propfee.estates.models import Occupancy, Unit
from propfee.estates.selectors import estates_visible_to, units_visible_to


def documents_visible_to(user: User) -> QuerySet[Document]:
    """Documents of the units the user may see; estate-wide ones (欠费公示) of visible estates
    for roles that may issue documents."""
    qs = Document.objects.select_related("estate", "unit", "unit__building", "created_by")
    if not role_can(user, Capability.VIEW_UNITS):
        return qs.none()
    units = units_visible_to(user).values("pk")
    estate_wide = Q(unit__isnull=True, estate__in=estates_visible_to(user).values("pk"))
    if not role_can(user, Capability.ISSUE_DOCUMENTS):
        estate_wide = Q(pk__in=[])
    return qs.filter(Q(unit__in=units) | estate_wide)


def unit_documents(*, unit: Unit) -> QuerySet[Document]:
    """The unit's documents, newest first, with their delivery evidence."""
    return (
        Document.objects.filter(unit=unit)
        .select_related("created_by")
        .prefetch_related(
            Prefetch(
                "deliveries",
                queryset=DeliveryEvidence.objects.select_related("recorded_by").order_by(
                    "delivered_on", "pk"
                ),
            )
        )
        .order_by("-created_at", "-pk")
    )


def unit_label(unit: Unit) -> str:
    """'3栋2单元1502' — the building's name, the entrance and the room, as printed."""
    entrance = (
        f"{unit.entrance}单元"
        if unit.entrance and not unit.entrance.endswith("单元")
        else unit.entrance
    )
    return f"{unit.building.name}{entrance}{unit.room}"


def route_ordered(units: QuerySet[Unit]) -> QuerySet[Unit]:
    """Units in the order a collector walks them: building, floor, entrance, room."""
    return units.order_by(
        "building__code", F("floor").asc(nulls_first=True), "entrance", "room", "pk"
    )


def addressees_for_units(*, unit_ids: Iterable[int], on: dt.date) -> dict[int, Addressee]:
    """Who writes and to whom, for each unit: two queries whatever the number of units."""
    ids = sorted(set(unit_ids))
    units = Unit.objects.filter(pk__in=ids).select_related("building", "estate__company")
    payers = dict(
        Occupancy.objects.filter(unit_id__in=ids, is_payer=True, since__lte=on)
        .filter(Q(until__isnull=True) | Q(until__gte=on))
        .order_by("unit_id", "since", "pk")
        .values_list("unit_id", "party__name")
    )
    return {
        unit.pk: Addressee(
            company_name=unit.estate.company.name,
            estate_name=unit.estate.name,
            unit_code=unit.code,
            unit_label=unit_label(unit),
            payer_name=payers.get(unit.pk, ""),
        )
        for unit in units
    }


@dataclass(frozen=True)
class DeliveredDemand:
    """A demand (催收文书) that reached the payer, with the evidence of it: what the
    collection engine counts as a limitation restart (民法典 art. 195)."""

    unit_id: int
    document_id: int
    kind: str
    number: str
    delivered_on: dt.date
    method: str
    evidence_id: int


def demands_delivered_for_units(
    unit_ids: Iterable[int], *, on_or_before: dt.date | None = None
) -> dict[int, list[DeliveredDemand]]:
    """Every delivered demand of each unit, oldest delivery first (one query). A document with
    several deliveries appears once per delivery. Notice-board postings are not deliveries and
    never appear here."""
    ids = sorted(set(unit_ids))
    result: dict[int, list[DeliveredDemand]] = defaultdict(list)
    if not ids:
        return result
    rows = DeliveryEvidence.objects.filter(
        document__unit_id__in=ids, document__kind__in=DEMAND_KINDS
    )
    if on_or_before is not None:
        rows = rows.filter(delivered_on__lte=on_or_before)
    for row in rows.order_by("delivered_on", "pk").values_list(
        "document__unit_id",
        "document_id",
        "document__kind",
        "document__number",
        "delivered_on",
        "method",
        "pk",
    ):
        unit_id, document_id, kind, number, delivered_on, method, pk = row
        result[unit_id].append(
            DeliveredDemand(unit_id, document_id, kind, number, delivered_on, method, pk)
        )
    return result


def unit_contracts(*, unit: Unit) -> QuerySet[Document]:
    """The uploaded service contracts (物业服务合同) of the unit."""
    return Document.objects.filter(unit=unit, kind=DocumentKind.CONTRACT).order_by("created_at")


def unit_demands(*, unit: Unit) -> QuerySet[Document]:
    """The unit's demands with their delivery evidence, oldest first (evidence bundle)."""
    return (
        Document.objects.filter(unit=unit, kind__in=DEMAND_KINDS)
        .prefetch_related(
            Prefetch("deliveries", queryset=DeliveryEvidence.objects.order_by("delivered_on", "pk"))
        )
        .order_by("created_at", "pk")
    )


def document_file_bytes(document: Document) -> bytes:
    """The document's own file; for a notice printed in a batch, its page cut out of the
    batch PDF (the batch file's hash is the one recorded)."""
    if document.batch_id is not None:
        import pypdf  # only batch pages need it

        batch = document.batch
        assert batch is not None and document.page is not None
        out = io.BytesIO()
        # pypdf reads the batch file where it needs to: a page of a long batch is cut out
        # without loading the whole batch into memory.
        with batch.file.open("rb") as f:
            writer = pypdf.PdfWriter()
            writer.add_page(pypdf.PdfReader(f).pages[document.page - 1])
            writer.write(out)
        return out.getvalue()
    with document.file.open("rb") as f:
        return f.read()

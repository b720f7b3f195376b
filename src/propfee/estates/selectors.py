"""Estates reads, always through the user's scope: what a user may see is decided here, once,
so the web UI, the API, the CLI and exports all obey the same rule. Anything outside the scope
is reported as not found, never as forbidden, so its existence is not disclosed."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from propfee.core.models import AuditAction, AuditEntry, StaffScope, User
from propfee.core.roles import COMPANY_WIDE_ROLES, Capability, ScopeTooNarrow, require, role_can
from propfee.estates.models import Building, Estate, Occupancy, Party, PartyPhone, Unit

_DIGITS_RE = re.compile(r"^\d{3,11}$")


@dataclass(frozen=True)
class Scope:
    """What a user may see: everything (`all`), or whole estates plus single buildings."""

    all: bool
    company_id: int | None
    estate_ids: frozenset[int]
    building_ids: frozenset[int]

    @property
    def empty(self) -> bool:
        return not self.all and not self.estate_ids and not self.building_ids


def scope_for(user: User) -> Scope:
    """The user's scope. Superusers see every company; admins their whole company."""
    if not user.is_authenticated or not user.is_active:
        return Scope(False, None, frozenset(), frozenset())
    if user.is_superuser:
        return Scope(True, None, frozenset(), frozenset())
    if user.company_id is None:
        return Scope(False, None, frozenset(), frozenset())
    if user.role in COMPANY_WIDE_ROLES:
        return Scope(True, user.company_id, frozenset(), frozenset())
    cached = getattr(user, "_propfee_scope", None)
    if cached is not None:
        return cached
    rows = StaffScope.objects.filter(user=user, estate__company_id=user.company_id).values_list(
        "estate_id", "building_id"
    )
    estates = frozenset(e for e, b in rows if b is None)
    buildings = frozenset(b for e, b in rows if b is not None and e not in estates)
    scope = Scope(False, user.company_id, estates, buildings)
    user._propfee_scope = scope  # type: ignore[attr-defined]
    return scope


def _company_filter(scope: Scope, field: str) -> Q:
    return Q(**{field: scope.company_id}) if scope.company_id is not None else Q()


def estates_visible_to(user: User) -> QuerySet[Estate]:
    scope = scope_for(user)
    qs = Estate.objects.select_related("company")
    if not role_can(user, Capability.VIEW_ESTATES) or scope.empty:
        return qs.none()
    if scope.all:
        return qs.filter(_company_filter(scope, "company_id"))
    return qs.filter(
        Q(pk__in=scope.estate_ids) | Q(buildings__pk__in=scope.building_ids)
    ).distinct()


def estates_covered_by(user: User, estate_ids: Iterable[int]) -> bool:
    """Whether `user`'s scope holds every one of `estate_ids` whole — not a building of it:
    what a company-wide setting asks of whoever changes it. Company admins cover their
    company, superusers every company; others the estates assigned to them."""
    wanted = set(estate_ids)
    scope = scope_for(user)
    if scope.all:
        if scope.company_id is None:
            return True
        return (
            not Estate.objects.filter(pk__in=wanted).exclude(company_id=scope.company_id).exists()
        )
    return wanted <= scope.estate_ids


def estates_cover_require(actor: User | None, capability: str, estate_ids: Iterable[int]) -> None:
    """Refuse (ScopeTooNarrow) a change to a company-wide setting that concerns `estate_ids`
    unless `actor` holds `capability` and covers each of them (`estates_covered_by`); `None`
    is the system itself."""
    require(actor, capability)
    if actor is not None and not estates_covered_by(actor, estate_ids):
        raise ScopeTooNarrow(
            _("该设置涉及您负责范围以外的项目，只有公司管理员或负责全部相关项目的经理可以修改。")
        )


def company_estate_ids(company_id: int) -> list[int]:
    """Every estate of the company: what a setting for the whole company concerns."""
    return list(Estate.objects.filter(company_id=company_id).values_list("pk", flat=True))


def buildings_visible_to(user: User) -> QuerySet[Building]:
    scope = scope_for(user)
    qs = Building.objects.select_related("estate")
    if not role_can(user, Capability.VIEW_ESTATES) or scope.empty:
        return qs.none()
    if scope.all:
        return qs.filter(_company_filter(scope, "estate__company_id"))
    return qs.filter(Q(estate_id__in=scope.estate_ids) | Q(pk__in=scope.building_ids))


def units_visible_to(user: User) -> QuerySet[Unit]:
    scope = scope_for(user)
    qs = Unit.objects.select_related("estate", "building")
    if not role_can(user, Capability.VIEW_UNITS) or scope.empty:
        return qs.none()
    if scope.all:
        if scope.company_id is None:
            return qs
        # By estate id rather than a join on the company: counting a company's million units
        # then walks the unit table's estate index alone.
        company_estates = Estate.objects.filter(company_id=scope.company_id).values("pk")
        return qs.filter(estate_id__in=company_estates)
    return qs.filter(Q(estate_id__in=scope.estate_ids) | Q(building_id__in=scope.building_ids))


def occupancies_visible_to(user: User) -> QuerySet[Occupancy]:
    if not role_can(user, Capability.VIEW_PARTIES):
        return Occupancy.objects.none()
    return Occupancy.objects.select_related("unit", "party").filter(
        unit__in=units_visible_to(user).values("pk")
    )


def _with_phones(parties: QuerySet[Party]) -> QuerySet[Party]:
    return parties.prefetch_related(
        Prefetch("phones", queryset=PartyPhone.objects.order_by("position"))
    )


def parties_visible_to(user: User) -> QuerySet[Party]:
    """Parties with an occupancy (current or past) on a visible unit; company-wide roles also
    see parties not yet linked to any unit."""
    scope = scope_for(user)
    qs = _with_phones(Party.objects.all())
    if not role_can(user, Capability.VIEW_PARTIES) or scope.empty:
        return qs.none()
    if scope.all:
        return qs.filter(_company_filter(scope, "company_id"))
    linked = Occupancy.objects.filter(unit__in=units_visible_to(user).values("pk"))
    return qs.filter(pk__in=linked.values("party_id"))


def parties_linkable_by(user: User) -> QuerySet[Party]:
    """Parties `user` may name in an occupancy or an ownership transfer: the visible ones, plus
    parties of the user's company not linked to any unit yet. A new buyer or tenant is created
    first and linked next; without this a scoped user could never link the party they created."""
    scope = scope_for(user)
    if scope.all or scope.empty or scope.company_id is None:
        return parties_visible_to(user)
    if not role_can(user, Capability.VIEW_PARTIES):
        return Party.objects.none()
    linked = Occupancy.objects.filter(party=OuterRef("pk"), unit__in=units_visible_to(user))
    unlinked = ~Q(Exists(Occupancy.objects.filter(party=OuterRef("pk"))))
    return _with_phones(
        Party.objects.filter(company_id=scope.company_id).filter(Q(Exists(linked)) | unlinked)
    )


def unit_get(*, user: User, code: str) -> Unit:
    """The visible unit with `code` (Unit.DoesNotExist if absent or out of scope)."""
    return units_visible_to(user).get(code=code.strip().upper())


def unit_search(*, user: User, query: str) -> QuerySet[Unit]:
    """Units matching a unit code (or its start), an occupant's name (or part of it), or a
    phone suffix (3–11 digits), within the user's scope.

    Each way of matching is its own indexed query and the unit ids are combined with UNION, so
    the database never tests every unit against every condition (an OR of correlated EXISTS
    over a million units took seconds)."""
    query = query.strip()
    units = units_visible_to(user)
    if not query:
        return units
    matches = Unit.objects.filter(code__prefix=query.upper()).order_by().values("pk")
    if role_can(user, Capability.VIEW_PARTIES):
        # 3–11 digits are a phone suffix; scanning every name for them would double the cost.
        if not _DIGITS_RE.match(query):
            by_name = Occupancy.objects.filter(party__name__contains=query)
            matches = matches.union(by_name.order_by().values("unit_id"))
        else:
            by_phone = (
                Occupancy.objects.filter(party__phones__number_reversed__prefix=query[::-1])
                .order_by()
                .values("unit_id")
            )
            matches = matches.union(by_phone)
    return units.filter(pk__in=matches)


def party_search(*, user: User, query: str, linkable: bool = False) -> QuerySet[Party]:
    """Visible parties whose name contains `query` or, for 3–11 digits, one of whose phones
    ends with it (an indexed prefix match on the reversed number). `linkable`: search the
    parties the user may link to a unit instead (`parties_linkable_by`)."""
    query = query.strip()
    parties = parties_linkable_by(user) if linkable else parties_visible_to(user)
    if not query:
        return parties
    # 3–11 digits are a phone suffix, anything else part of a name.
    if _DIGITS_RE.match(query):
        by_phone = PartyPhone.objects.filter(number_reversed__prefix=query[::-1])
        return parties.filter(pk__in=by_phone.order_by().values("party_id"))
    return parties.filter(name__contains=query)


def unit_occupancies(*, unit: Unit, include_past: bool = True) -> QuerySet[Occupancy]:
    qs = unit.occupancies.select_related("party").prefetch_related(
        Prefetch("party__phones", queryset=PartyPhone.objects.order_by("position"))
    )
    if not include_past:
        qs = qs.filter(until__isnull=True)
    return qs.order_by("until", "-since", "pk")


def unit_history(*, unit: Unit) -> QuerySet[AuditEntry]:
    """Changes to the unit, its occupancies and the people who hold or held them (a phone
    number changed, a name corrected), newest first. Views and exports are not changes and are
    left out."""
    occupancies = list(unit.occupancies.values_list("pk", "party_id"))
    occupancy_ids = [str(pk) for pk, _ in occupancies]
    party_ids = sorted({str(party_id) for _, party_id in occupancies})
    return (
        AuditEntry.objects.filter(
            Q(object_type="estates.unit", object_id=str(unit.pk))
            | Q(object_type="estates.occupancy", object_id__in=occupancy_ids)
            | Q(object_type="estates.party", object_id__in=party_ids)
        )
        .exclude(action__in=[AuditAction.REVEAL, AuditAction.EXPORT])
        .select_related("actor")
        .order_by("-at", "-id")
    )


def current_payer(*, unit: Unit, on: dt.date | None = None) -> Party | None:
    """The unit's payer on `on` (today by default)."""
    on = on or timezone.localdate()
    occ = (
        unit.occupancies.filter(is_payer=True, since__lte=on)
        .filter(Q(until__isnull=True) | Q(until__gte=on))
        .select_related("party")
        .first()
    )
    return occ.party if occ else None


def estate_summaries(*, user: User) -> QuerySet[Estate]:
    """Visible estates with their building and unit counts."""
    return estates_visible_to(user).annotate(
        building_count=Count("buildings", distinct=True), unit_count=Count("units", distinct=True)
    )


def building_summaries(*, user: User, estate: Estate) -> QuerySet[Building]:
    return (
        buildings_visible_to(user)
        .filter(estate=estate)
        .annotate(unit_count=Count("units"))
        .order_by("code")
    )


def audit_entries_visible_to(user: User) -> QuerySet[AuditEntry]:
    scope = scope_for(user)
    qs = AuditEntry.objects.select_related("actor")
    if not role_can(user, Capability.VIEW_AUDIT) or scope.empty:
        return qs.none()
    if scope.all:
        if scope.company_id is None:
            return qs
        return qs.filter(
            Q(estate__company_id=scope.company_id) | Q(actor__company_id=scope.company_id)
        )
    estate_ids = set(scope.estate_ids) | set(
        Building.objects.filter(pk__in=scope.building_ids).values_list("estate_id", flat=True)
    )
    return qs.filter(estate_id__in=estate_ids)

"""What an import of the estates app may touch (ImportScope): the actor's estates and buildings,
and the one estate an import is limited to; shared by every kind that looks up by code."""

from __future__ import annotations

from collections.abc import Iterable

from propfee.core.importing import ImportContext, many_values
from propfee.estates.models import Estate, Unit
from propfee.estates.selectors import estates_visible_to, scope_for


class ImportScope:
    """The estates (and, for staff scoped to single buildings, the buildings) an import may
    touch. Anything outside is reported exactly like something that does not exist."""

    def __init__(self, ctx: ImportContext) -> None:
        self.company = ctx.company
        self.limit = ctx.estate
        self.everything = ctx.actor is None
        self.estate_ids: set[int] = set()
        self.whole_estate_ids: set[int] = set()
        self.building_ids: frozenset[int] = frozenset()
        if ctx.actor is not None:
            visible = estates_visible_to(ctx.actor).filter(company=ctx.company)
            self.estate_ids = set(visible.values_list("pk", flat=True))
            scope = scope_for(ctx.actor)
            self.whole_estate_ids = (
                set(self.estate_ids) if scope.all else self.estate_ids & scope.estate_ids
            )
            self.building_ids = scope.building_ids

    def estate_ok(self, estate_id: int) -> bool:
        return self.everything or estate_id in self.estate_ids

    def limit_refused(self, ctx: ImportContext) -> bool:
        """Whether the import is limited to an estate the actor may not touch; if so, that is
        reported as a whole-file error, worded like an estate that does not exist."""
        if self.limit is None or self.estate_ok(self.limit.pk):
            return False
        ctx.error(0, "", f"项目不存在：{self.limit.code}")
        return True

    def building_ok(self, estate_id: int, building_id: int | None) -> bool:
        """`building_id` None is a building the import would create."""
        if self.everything or estate_id in self.whole_estate_ids:
            return True
        return building_id is not None and building_id in self.building_ids

    def estates_by_code(self, codes: Iterable[str]) -> dict[str, Estate]:
        found = Estate.objects.filter(company=self.company, code__in=set(codes))
        return {e.code: e for e in found if self.estate_ok(e.pk)}

    def units_by_code(self, codes: Iterable[str]) -> dict[str, Unit]:
        """Units of the company with these codes that the actor may touch (other importers —
        charges, payments — find their units here too)."""
        found = Unit.objects.filter(
            estate__company=self.company, code__in=many_values(sorted(set(codes)))
        )
        return {
            unit.code: unit
            for unit in found
            if self.estate_ok(unit.estate_id) and self.building_ok(unit.estate_id, unit.building_id)
        }

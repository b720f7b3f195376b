"""Who may write what on a unit's collection: the capability, and the unit inside the actor's
estates. `None` is the system itself (the daily run, imports)."""

from __future__ import annotations

from propfee.core.models import User
from propfee.core.roles import PermissionDenied, require
from propfee.estates.models import Unit
from propfee.estates.selectors import units_visible_to


def unit_action_require(actor: User | None, capability: str, unit: Unit) -> None:
    """Raise PermissionDenied unless `actor` holds `capability` and sees `unit`."""
    require(actor, capability)
    if actor is not None and not units_visible_to(actor).filter(pk=unit.pk).exists():
        raise PermissionDenied(capability)

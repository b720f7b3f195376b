"""Role × endpoint matrix of /api/v1/: the HTTP status every role gets on every estates
endpoint, written out by hand from ROLE_CAPABILITIES in core/roles.py (deliberately not
computed from it, so a change to the table has to be made here too).

Every user except the admin is scoped to estate DEMO; the admin sees the whole company. All
requests target objects inside that scope, so a 403 here means "the role may not", never
"out of scope" (those are 404, see test_scoping.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from propfee.core.models import AuditEntry
from tests.api.conftest import World

ROLES = ("admin", "manager", "collector", "customer_service", "finance", "legal", "committee")

# fmt: off
# Expected status per role, columns in ROLES order:
#                         admin manager collector cust_svc finance legal committee
EXPECTED: dict[str, tuple[int, ...]] = {
    "estates.list":       (200,  200,    200,      200,     200,    200,  200),
    "estates.retrieve":   (200,  200,    200,      200,     200,    200,  200),
    "estates.create":     (201,  403,    403,      403,     403,    403,  403),
    "estates.update":     (200,  403,    403,      403,     403,    403,  403),
    "buildings.list":     (200,  200,    200,      200,     200,    200,  200),
    "buildings.create":   (201,  201,    403,      403,     403,    403,  403),
    "units.list":         (200,  200,    200,      200,     200,    200,  403),
    "units.retrieve":     (200,  200,    200,      200,     200,    200,  403),
    "units.create":       (201,  201,    403,      403,     403,    403,  403),
    "units.update":       (200,  200,    403,      403,     403,    403,  403),
    "units.transfer":     (200,  200,    403,      200,     403,    403,  403),
    "units.statement":    (200,  200,    200,      200,     200,    200,  403),
    "parties.list":       (200,  200,    200,      200,     200,    200,  403),
    "parties.retrieve":   (200,  200,    200,      200,     200,    200,  403),
    "parties.create":     (201,  201,    403,      201,     403,    403,  403),
    "parties.update":     (200,  200,    403,      200,     403,    403,  403),
    "parties.reveal":     (200,  200,    200,      200,     403,    200,  403),
    "occupancies.list":   (200,  200,    200,      200,     200,    200,  403),
    "occupancies.create": (201,  201,    403,      201,     403,    403,  403),
    "me":                 (200,  200,    200,      200,     200,    200,  200),
}
# fmt: on

Request = tuple[str, str, dict[str, Any] | None]

# Each endpoint: (method, URL, JSON body), built from the world's objects.
ENDPOINTS: dict[str, Callable[[World], Request]] = {
    "estates.list": lambda w: ("get", "/api/v1/estates/", None),
    "estates.retrieve": lambda w: ("get", "/api/v1/estates/DEMO/", None),
    "estates.create": lambda w: ("post", "/api/v1/estates/", {"code": "NEW1", "name": "新项目"}),
    "estates.update": lambda w: ("patch", "/api/v1/estates/DEMO/", {"city": "上海"}),
    "buildings.list": lambda w: ("get", "/api/v1/buildings/?estate=DEMO", None),
    "buildings.create": lambda w: ("post", "/api/v1/buildings/", {"estate": "DEMO", "code": "9"}),
    "units.list": lambda w: ("get", "/api/v1/units/", None),
    "units.retrieve": lambda w: ("get", "/api/v1/units/DEMO-3-1502/", None),
    "units.create": lambda w: (
        "post",
        "/api/v1/units/",
        {"estate": "DEMO", "building": "3", "room": "1601", "area_m2": "95.20"},
    ),
    "units.update": lambda w: ("patch", "/api/v1/units/DEMO-3-1502/", {"status": "vacant"}),
    "units.transfer": lambda w: (
        "post",
        "/api/v1/units/DEMO-3-1502/transfer/",
        {"new_owners": [w.buyer.pk], "on": "2026-03-01"},
    ),
    "units.statement": lambda w: (
        "get",
        "/api/v1/units/DEMO-3-1502/statement/?as_of=2026-03-01",
        None,
    ),
    "parties.list": lambda w: ("get", "/api/v1/parties/", None),
    "parties.retrieve": lambda w: ("get", f"/api/v1/parties/{w.owner.pk}/", None),
    "parties.create": lambda w: (
        "post",
        "/api/v1/parties/",
        {"name": "赵六", "phones": ["10087654321"]},
    ),
    "parties.update": lambda w: (
        "patch",
        f"/api/v1/parties/{w.owner.pk}/",
        {"email": "wang@example.com"},
    ),
    "parties.reveal": lambda w: ("post", f"/api/v1/parties/{w.owner.pk}/reveal/", None),
    "occupancies.list": lambda w: ("get", "/api/v1/occupancies/?unit=DEMO-3-1502", None),
    "occupancies.create": lambda w: (
        "post",
        "/api/v1/occupancies/",
        {"unit": "DEMO-3-1502", "party": w.buyer.pk, "role": "tenant", "since": "2026-01-01"},
    ),
    "me": lambda w: ("get", "/api/v1/me/", None),
}


def test_matrix_covers_every_role_and_endpoint():
    from propfee.core.roles import Role

    assert set(ROLES) == set(Role.values)
    assert set(EXPECTED) == set(ENDPOINTS)
    assert all(len(row) == len(ROLES) for row in EXPECTED.values())


def _cells():
    for endpoint, row in EXPECTED.items():
        for role, status in zip(ROLES, row, strict=True):
            yield pytest.param(endpoint, role, status, id=f"{endpoint}-{role}")


def _send(client, world: World, endpoint: str):
    method, url, body = ENDPOINTS[endpoint](world)
    return (
        getattr(client, method)(url, body, format="json") if body else getattr(client, method)(url)
    )


@pytest.mark.parametrize(("endpoint", "role", "expected"), list(_cells()))
def test_role_endpoint_status(world, staff, client_for, endpoint, role, expected):
    user = staff(role)
    audit_before = AuditEntry.objects.count()

    response = _send(client_for(user), world, endpoint)

    assert response.status_code == expected, response.content.decode()
    method = ENDPOINTS[endpoint](world)[0]
    audit_added = AuditEntry.objects.count() - audit_before
    if method != "get" and expected < 300:
        # A write (or a reveal of personal data) that succeeded left its audit row(s)...
        assert audit_added >= 1
        assert AuditEntry.objects.filter(actor=user).exists()
    else:
        # ...a refused one or a read left none.
        assert audit_added == 0
    if expected == 403:
        assert response.json()["detail"].startswith("没有权限")
    if method == "get" and expected == 200 and "count" in response.json():
        assert response.json()["count"] >= 1


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_anonymous_is_unauthorized_everywhere(world, anon, endpoint):
    response = _send(anon, world, endpoint)
    assert response.status_code == 401
    assert AuditEntry.objects.count() == 0

"""Every API route answers a 20-digit id with 404 (in the path) or 400 (in a filter or a body),
never 500: SQLite cannot bind an int above 2**63 − 1."""

from __future__ import annotations

import re

import pytest

from tests.core.test_identifiers import HUGE, JUST_ABOVE


@pytest.fixture
def admin_api(world, admin_user, client_for):
    return client_for(admin_user)


def test_every_detail_route_answers_an_id_out_of_range_with_404(admin_api):
    paths = admin_api.get("/api/schema/", {"format": "json"}).json()["paths"]
    answers = {}
    for path, operations in paths.items():
        if "{" not in path:
            continue
        for value in (HUGE, JUST_ABOVE):
            url = re.sub(r"\{\w+\}", value, path)
            for method in operations:
                if method not in {"get", "post", "patch", "put", "delete"}:
                    continue
                response = getattr(admin_api, method)(url, {}, format="json")
                answers[f"{method.upper()} {url}"] = response.status_code
    assert len(answers) >= 16
    assert {call: code for call, code in answers.items() if code != 404} == {}


@pytest.mark.parametrize("value", [HUGE, JUST_ABOVE, "-1", "1.5"])
def test_occupancy_party_filter_refuses_an_id_out_of_range(admin_api, value):
    response = admin_api.get("/api/v1/occupancies/", {"party": value})
    assert response.status_code == 400
    assert "party" in response.json()


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (
            "/api/v1/occupancies/",
            {"unit": "DEMO-3-1502", "party": HUGE, "role": "tenant", "since": "2026-01-01"},
            "party",
        ),
        (
            "/api/v1/units/DEMO-3-1502/transfer/",
            {"new_owners": [HUGE], "on": "2026-03-01"},
            "new_owners",
        ),
        (
            "/api/v1/units/DEMO-3-1502/transfer/",
            {"new_owners": [1], "payer": JUST_ABOVE, "on": "2026-03-01"},
            "payer",
        ),
    ],
)
def test_ids_out_of_range_in_a_body_are_400(admin_api, url, body, field):
    response = admin_api.post(url, body, format="json")
    assert response.status_code == 400
    assert field in response.json()

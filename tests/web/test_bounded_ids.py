"""No staff page answers 500 to a 20-digit id (SQLite cannot bind an int above 2**63 − 1): in the
URL it is a 404 (the `<id:…>` converter), in a query parameter or form field it is ignored or
refused like any other wrong id."""

from __future__ import annotations

import re

from tests.core.test_identifiers import HUGE, ID_ROUTES, JUST_ABOVE, ROUTES

# Query parameters that name an object by id on some staff page.
ID_PARAMS = ("estate", "building", "collector", "actor", "task", "version", "policy", "party")
# Pages outside the staff UI, or that end the session.
SKIPPED_PREFIXES = ("admin/", "i18n/", "api/", "logout/", "messaging/callback")


def _filled(route: str, value: str, unit_code: str) -> str:
    """`route` with every id converter set to `value` and the other parameters plausible."""
    for name, converter in dict(_converters(route)).items():
        placeholder = f"<{converter}:{name}>"
        if converter == "id":
            route = route.replace(placeholder, value)
        elif name == "direction":
            route = route.replace(placeholder, "up")
        else:
            route = route.replace(placeholder, unit_code)
    return "/" + route


def _converters(route: str):
    return [(name, conv) for conv, name in re.findall(r"<(\w+):(\w+)>", route)]


def test_an_id_out_of_range_in_the_url_is_404(admin_user, unit, signed_in):
    client = signed_in(admin_user)
    answers = {}
    for route in ID_ROUTES:
        for value in (HUGE, JUST_ABOVE):
            url = _filled(route, value, unit.code)
            answers[url] = (client.get(url).status_code, client.post(url, {}).status_code)
    assert len(answers) >= 40
    assert {url: codes for url, codes in answers.items() if codes != (404, 404)} == {}


PLAIN_PAGES = [
    route
    for route, converters in ROUTES
    if not converters and not route.startswith(SKIPPED_PREFIXES)
]


def test_pages_ignore_or_refuse_ids_out_of_range_in_query_parameters(admin_user, owner, signed_in):
    client = signed_in(admin_user)
    params = {name: HUGE for name in ID_PARAMS}
    answers = {
        route: client.get("/" + route, {**params, "page": HUGE}).status_code
        for route in PLAIN_PAGES
    }
    assert len(answers) >= 30
    assert {route: code for route, code in answers.items() if code >= 500} == {}


def test_transfer_form_refuses_an_owner_id_out_of_range(admin_user, unit, owner, signed_in):
    data = {"q": "", "on": "2026-03-01", "note": "", "payer": "", "owners": [HUGE, JUST_ABOVE]}
    response = signed_in(admin_user).post(f"/units/{unit.code}/transfer/", data)
    assert response.status_code in (200, 422)
    assert "owners" in response.context["form"].errors

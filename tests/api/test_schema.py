"""OpenAPI: the schema is valid and complete, generates without warnings, and the docs page
loads nothing from outside the site (machines may be offline)."""

from __future__ import annotations

import re

from django.core.management import call_command
from drf_spectacular.validation import validate_schema


def test_schema_is_valid_openapi_with_the_estates_paths(admin_user, client_for):
    response = client_for(admin_user).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in [
        "/api/v1/units/",
        "/api/v1/units/{code}/",
        "/api/v1/units/{code}/transfer/",
        "/api/v1/parties/",
        "/api/v1/parties/{id}/",
        "/api/v1/parties/{id}/reveal/",
        "/api/v1/estates/{code}/",
        "/api/v1/buildings/",
        "/api/v1/occupancies/",
        "/api/v1/me/",
        "/api/v1/auth/token/",
    ]:
        assert path in paths, path
    assert set(paths["/api/v1/units/{code}/"]) == {"get", "patch"}
    list_params = {p["name"] for p in paths["/api/v1/units/"]["get"]["parameters"]}
    assert {"estate", "building", "unit_type", "status", "q", "page", "page_size"} <= list_params
    unit = schema["components"]["schemas"]["Unit"]["properties"]
    assert unit["area_m2"]["type"] == "string"
    assert unit["area_m2"]["format"] == "decimal"
    assert unit["handover_date"]["format"] == "date"


def test_schema_generates_without_warnings(tmp_path):
    # --fail-on-warn turns any warning or error of the generator into a failure.
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(out))
    assert "/api/v1/units/{code}/" in out.read_text()


def test_docs_page_references_only_local_assets(admin_user, client_for):
    client = client_for(admin_user)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert urls, html
    for url in urls:
        # Static assets, and Swagger UI's start-up script served by the docs view itself.
        assert url.startswith("/static/") or url == "/api/docs/?script=", url
    assert not re.search(r"https?://", html.replace("http://www.w3.org", ""))
    # Each asset is actually served by the site itself (the docs script first: closing a
    # streamed static file ends the test client's request, and with it its database connection).
    for url in sorted(urls, key=lambda u: u.startswith("/static/")):
        asset = client.get(url)
        assert asset.status_code == 200, url
        if hasattr(asset, "streaming_content"):
            b"".join(asset.streaming_content)
        asset.close()

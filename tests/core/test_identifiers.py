"""Bounded ids: a 20-digit number is never bound into a query (SQLite raises OverflowError above
2**63 − 1). Every route with a numeric id uses the bounded `<id:…>` converter, so such a URL is a
404; query parameters naming an id are parsed with `id_parse`."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter

from propfee.core.identifiers import ID_MAX, IdConverter, id_parse

HUGE = "9" * 20
JUST_ABOVE = str(ID_MAX + 1)  # 19 digits, one more than the largest bigint


def _routes(resolver: URLResolver, prefix: str = "", inherited: dict | None = None):
    """Every `path()` route under `resolver` as (full route, its converters); regex routes
    (the API router's) are left to the API tests."""
    for entry in resolver.url_patterns:
        route = getattr(entry.pattern, "_route", None)
        converters = {**(inherited or {}), **getattr(entry.pattern, "converters", {})}
        if isinstance(entry, URLResolver):
            yield from _routes(
                entry, prefix + (route if route is not None else "<regex>"), converters
            )
        elif isinstance(entry, URLPattern) and route is not None:
            yield prefix + route, converters


ROUTES = list(_routes(get_resolver()))
ID_ROUTES = [
    route for route, conv in ROUTES if any(isinstance(c, IdConverter) for c in conv.values())
]


def test_no_route_uses_the_unbounded_int_converter():
    unbounded = [
        route for route, conv in ROUTES if any(type(c) is IntConverter for c in conv.values())
    ]
    assert ID_ROUTES, "no route uses <id:…>"
    assert unbounded == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", 12),
        (" 7 ", 7),
        (str(ID_MAX), ID_MAX),
        (JUST_ABOVE, None),
        (HUGE, None),
        ("0", None),
        ("-3", None),
        ("²", None),  # a digit to str.isdigit(), not to int()
        ("١٢", None),  # Arabic-Indic digits
        ("1.5", None),
        ("", None),
        (None, None),
    ],
)
def test_id_parse(raw, expected):
    assert id_parse(raw) == expected


def test_converter_refuses_ids_above_the_bigint_range():
    converter = IdConverter()
    assert converter.to_python(str(ID_MAX)) == ID_MAX
    with pytest.raises(ValueError):
        converter.to_python(JUST_ABOVE)
    assert re.fullmatch(converter.regex, HUGE) is None

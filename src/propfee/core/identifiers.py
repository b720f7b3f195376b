"""Bounded integer ids: the largest id any database propfee runs on can store, and the `<id:…>`
URL converter every route with a numeric id uses.

A 20-digit id is not an id: SQLite refuses to bind an int above 2**63 − 1 (OverflowError, a 500)
and PostgreSQL's bigint stops there too. So a number out of that range never reaches a query:
in a URL it does not match the route (404), in a form, filter or API field it is a validation
error (400)."""

from __future__ import annotations

ID_MAX = 2**63 - 1  # the largest BigAutoField / bigint value
ID_MAX_DIGITS = len(str(ID_MAX))


def id_parse(raw: object) -> int | None:
    """`raw` as an id (1 … ID_MAX), or None if it is not one (not digits, zero, too large)."""
    text = str(raw).strip()
    if not text.isascii() or not text.isdigit() or len(text) > ID_MAX_DIGITS:
        return None
    value = int(text)
    return value if 1 <= value <= ID_MAX else None


class IdConverter:
    """`<id:pk>`: Django's `<int:…>` bounded to ID_MAX, so an out-of-range id is a 404."""

    regex = f"[0-9]{{1,{ID_MAX_DIGITS}}}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > ID_MAX:
            # A ValueError from a converter tells the resolver the route does not match.
            raise ValueError(f"id out of range: {value}")
        return number

    def to_url(self, value: int | str) -> str:
        return str(int(value))

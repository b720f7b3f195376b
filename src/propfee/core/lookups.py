"""`__prefix`: a starts-with lookup that an index can answer on every database propfee runs on.

On PostgreSQL it is Django's `startswith` (`LIKE 'x%'`, served by the pattern-ops index Django
adds for indexed CharFields). SQLite's LIKE is case-insensitive and so cannot use an ordinary
index; there the lookup becomes the equivalent range `x <= col < x || U+10FFFF`, which the
B-tree answers directly. Used for the search paths a person waits on: unit codes and phone
suffixes (stored reversed)."""

from __future__ import annotations

from typing import Any

from django.db.models import CharField
from django.db.models.lookups import StartsWith


@CharField.register_lookup
class Prefix(StartsWith):
    lookup_name = "prefix"

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        # Django's own `startswith`, under its own name (backends key operators by lookup name).
        return StartsWith(self.lhs, self.rhs).as_sql(compiler, connection)

    def as_sqlite(self, compiler: Any, connection: Any) -> Any:
        if not isinstance(self.rhs, str):
            return self.as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return (
            f"({lhs} >= %s AND {lhs} < %s)",
            [*lhs_params, self.rhs, self.rhs + "\U0010ffff"],
        )

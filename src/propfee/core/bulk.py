"""Set-based writes for large runs (imports, the audit log): plain-tuple inserts and updates,
and `__in` look-ups by thousands of values, without a model object per row."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

_INSERT_BATCH = 10_000


def driver_value_adapter(field: models.Field) -> Callable[[Any], Any] | None:
    """How a Python value of `field` is handed to the database driver, for the field types
    whose driver value differs from the Python value (None for the others: they pass through)."""
    internal = field.get_internal_type()
    if internal == "JSONField":
        # The same text as `json.dumps(value, cls=encoder)` (what Django writes), with one
        # encoder for all rows instead of one per value.
        encode = (getattr(field, "encoder", None) or json.JSONEncoder)().encode
        return lambda value: None if value is None else encode(value)
    if internal == "DateTimeField":
        probe = timezone.now()
        if connection.ops.adapt_datetimefield_value(probe) is probe:
            return None  # the driver takes aware datetimes as they are (PostgreSQL)
        last: list[Any] = [None, None]

        def adapt(value: Any) -> Any:
            # An import stamps every row with the same timestamp: adapt it once.
            if value is not last[0]:
                last[0], last[1] = value, connection.ops.adapt_datetimefield_value(value)
            return last[1]

        return adapt
    return None


def _columns(model: type[models.Model], fields: Sequence[str]) -> list[str]:
    return [str(getattr(model._meta.get_field(name), "column", name)) for name in fields]


def _rows_convert(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]
) -> Sequence[Sequence[Any]]:
    """`rows` with JSON and datetime values adapted for the driver (the others as they are)."""
    model_fields = [model._meta.get_field(name) for name in fields]
    converters = [
        (i, c)
        for i, f in enumerate(model_fields)
        if isinstance(f, models.Field) and (c := driver_value_adapter(f))
    ]
    if not converters:
        return rows
    converted = []
    for row in rows:
        values = list(row)
        for i, convert in converters:
            values[i] = convert(values[i])
        converted.append(values)
    return converted


def rows_insert(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Insert plain tuples (values of `fields`, in order) into `model`'s table: COPY on
    PostgreSQL, executemany elsewhere. No model instances, no signals, no returned keys: for
    large imports, where building a model object per row costs more than the insert itself.
    JSON and datetime values are adapted here; other values go to the driver as they are."""
    if not rows:
        return
    rows = _rows_convert(model, fields, rows)
    rows_insert_adapted(model, fields, rows, progress=progress)


def rows_insert_adapted(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """`rows_insert` for rows whose values the driver takes as they are (JSON already encoded,
    datetimes already adapted with `driver_value_adapter`)."""
    columns = _columns(model, fields)
    table = connection.ops.quote_name(model._meta.db_table)
    column_list = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _INSERT_BATCH):
            batch = rows[start : start + _INSERT_BATCH]
            if connection.vendor == "postgresql":
                sql = f"COPY {table} ({column_list}) FROM STDIN"
                # COPY runs on the driver's cursor; errors still surface as Django's own.
                with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
                    for values in batch:
                        copy.write_row(values)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({marks})", batch)
            if progress:
                progress(min(start + _INSERT_BATCH, len(rows)), len(rows))


def rows_update(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Update rows by primary key: each row holds the new values of `fields`, then the pk.
    One statement sent many times (executemany; pipelined on PostgreSQL), which unlike
    `bulk_update`'s CASE WHEN stays linear in the number of rows."""
    if not rows:
        return
    rows = _rows_convert(model, fields, rows)
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(c)} = %s" for c in _columns(model, fields))
    table = quote(model._meta.db_table)
    assert model._meta.pk is not None
    pk = quote(str(model._meta.pk.column))
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", rows)


def many_values(values: Iterable[str] | Iterable[int]) -> RawSQL | list[Any]:
    """The right-hand side of a `field__in=` lookup for thousands of values, sent as one
    parameter (a PostgreSQL array, a JSON array on SQLite) instead of one placeholder each:
    one query, no parameter limit, no per-value work in the ORM."""
    items = list(values)
    if not items:
        return []  # Django answers `__in=[]` with no query at all
    if connection.vendor == "postgresql":
        cast = "bigint[]" if isinstance(items[0], int) else "text[]"
        return RawSQL(f"SELECT unnest(%s::{cast})", [items])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(items)])


def rows_insert_new(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    unique_fields: Sequence[str],
) -> None:
    """`rows_insert` that skips the rows whose `unique_fields` key already exists, so a retried
    or concurrent write never doubles: `INSERT OR IGNORE` on SQLite; on PostgreSQL a COPY (the
    caller normally knows which keys exist, under a lock) and, should any key exist after all,
    the same rows again with `INSERT … ON CONFLICT DO NOTHING` after rolling the COPY back."""
    if not rows:
        return
    rows = _rows_convert(model, fields, rows)
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic():
                rows_insert_adapted(model, fields, rows)
            return
        except IntegrityError:
            pass
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    column_list = ", ".join(quote(c) for c in _columns(model, fields))
    marks = ", ".join(["%s"] * len(fields))
    if connection.vendor == "sqlite":
        sql = f"INSERT OR IGNORE INTO {table} ({column_list}) VALUES ({marks})"
    else:
        conflict = ", ".join(quote(c) for c in _columns(model, unique_fields))
        sql = (
            f"INSERT INTO {table} ({column_list}) VALUES ({marks}) "
            f"ON CONFLICT ({conflict}) DO NOTHING"
        )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _INSERT_BATCH):
            cursor.executemany(sql, rows[start : start + _INSERT_BATCH])

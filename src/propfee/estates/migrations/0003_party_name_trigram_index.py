"""On PostgreSQL, a trigram index on party names so that search by part of a name
(`name LIKE '%建国%'`) does not scan every party. SQLite has no such index; nothing to do there.
pg_trgm is a trusted extension (PostgreSQL ≥ 13): the database owner may create it."""

from django.db import migrations


def _is_postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def create_index(apps, schema_editor):
    if _is_postgresql(schema_editor):
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS party_name_trgm_idx "
            "ON estates_party USING gin (name gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if _is_postgresql(schema_editor):
        schema_editor.execute("DROP INDEX IF EXISTS party_name_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("estates", "0002_unit_code_prefix_index")]

    operations = [migrations.RunPython(create_index, drop_index)]

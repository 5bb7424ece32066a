"""What a schema is, as the catalogue says: columns, constraints, indexes, views, functions.

Two warehouses are equal when their snapshots are: the comparison the upgrade tests make
between a fresh warehouse and an upgraded one. Columns are compared by name (an upgraded table
keeps the column order its first release gave it; nothing reads columns by position).
"""

from __future__ import annotations

from audience_dagster.warehouse.connection import connection

SCHEMAS = ["raw", "privacy", "identity", "marts", "collector", "meta"]
QUERIES = {
    "columns": """
        SELECT table_schema, table_name, column_name, data_type, udt_name, is_nullable, column_default,
               character_maximum_length, numeric_precision, numeric_scale, is_identity, identity_generation
        FROM information_schema.columns WHERE table_schema = ANY(%(schemas)s)
    """,
    "constraints": """
        SELECT n.nspname, c.conrelid::regclass::text, c.conname, c.contype::text, pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE n.nspname = ANY(%(schemas)s)
    """,
    "indexes": "SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = ANY(%(schemas)s)",
    "views": "SELECT schemaname, viewname, definition FROM pg_views WHERE schemaname = ANY(%(schemas)s)",
    "functions": """
        SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY(%(schemas)s)
    """,
    "relations": """
        SELECT n.nspname, c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY(%(schemas)s)
    """,
}


def schema_snapshot(url: str) -> dict[str, set[tuple]]:
    """Every object of the project's schemas (meta.schema_versions' rows excluded), as sets."""
    with connection(url) as conn, conn.cursor() as cur:
        snapshot = {}
        for kind, sql in QUERIES.items():
            cur.execute(sql, {"schemas": SCHEMAS})
            snapshot[kind] = set(cur.fetchall())
    return snapshot


def differences(left: dict[str, set[tuple]], right: dict[str, set[tuple]]) -> dict[str, dict[str, list]]:
    """Per kind, what only the left and only the right holds (empty when equal)."""
    found = {}
    for kind in left:
        only_left, only_right = sorted(left[kind] - right[kind], key=repr), sorted(right[kind] - left[kind], key=repr)
        if only_left or only_right:
            found[kind] = {"only_left": only_left, "only_right": only_right}
    return found

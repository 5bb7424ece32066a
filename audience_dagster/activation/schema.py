"""Activation's schema: destinations, members, syncs, cursors, dead letters, and the marts
tables it writes (recommendations, next_best_actions, price_offers).

The migrations are the numbered files of ``sql/`` (registered in
:data:`audience_dagster.warehouse.schema.CAPABILITIES`; how to add one: docs/schema.md); the
other files of ``sql/`` are static statements (:func:`statement`).
"""

from __future__ import annotations

from importlib import resources

from audience_dagster.warehouse.schema import schema_of

SQL = resources.files("audience_dagster.activation").joinpath("sql")

ensure_schema = schema_of("activation")


def statement(name: str) -> str:
    """A static statement of ``activation/sql/<name>.sql``."""
    return SQL.joinpath(f"{name}.sql").read_text()

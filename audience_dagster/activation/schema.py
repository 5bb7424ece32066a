"""Activation's schema: destinations, members, syncs, cursors, dead letters, and the marts
tables it writes (recommendations, next_best_actions, price_offers).

The migrations are the numbered files of ``sql/`` (registered in
:data:`audience_dagster.warehouse.schema.CAPABILITIES`; how to add one: docs/schema.md); the
static queries the assets run are in ``queries/`` (:func:`statement`).
"""

from __future__ import annotations

from importlib import resources

from audience_dagster.warehouse.schema import schema_of

QUERIES = resources.files("audience_dagster.activation").joinpath("queries")

ensure_schema = schema_of("activation")


def statement(name: str) -> str:
    """A static statement of ``activation/queries/<name>.sql``."""
    return QUERIES.joinpath(f"{name}.sql").read_text()

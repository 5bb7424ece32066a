"""The identity schema (migrations in ``sql/``, see :mod:`.schema`) and the lock that serialises
every change to its tables (rebuilds, manual merges and unmerges, accepted suggestions)."""

from __future__ import annotations

from audience_dagster.identity.schema import ensure_schema

LOCK_KEY = 0x1D_E7_17_1E  # pg_advisory_xact_lock key shared by rebuilds and manual operations


def ensure_state(cur) -> None:
    """Migrate the identity schema to its latest version (:mod:`.schema`; commits when it had to)."""
    ensure_schema(cur.connection)

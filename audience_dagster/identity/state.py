"""The identity schema's tables (``sql/identity_schema.sql``) and the lock that serialises every
change to them (rebuilds, manual merges and unmerges, accepted suggestions)."""

from __future__ import annotations

from pathlib import Path

LOCK_KEY = 0x1D_E7_17_1E  # pg_advisory_xact_lock key shared by rebuilds and manual operations
STATE_DDL = (Path(__file__).with_name("sql") / "identity_schema.sql").read_text(encoding="utf-8")


def ensure_state(cur) -> None:
    """Create the identity schema's tables; replace a map written before profile ids existed."""
    cur.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = 'identity'"
        " AND table_name = 'identity_map' AND column_name = 'profile_key'"
    )
    if cur.fetchone():
        cur.execute("DROP TABLE identity.identity_map")
    cur.execute(STATE_DDL)

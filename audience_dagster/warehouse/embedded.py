"""The embedded PostgreSQL: a real PostgreSQL 16 server from the ``pgserver`` wheel.

It lives in a project-local data directory, listens on a Unix socket (no TCP port) and keeps
running after the process that started it exits, so later commands (tests, ``dagster dev``, the
CLI) reuse it. Starting it when it already runs is a cheap no-op. On first start it is tuned
for analytics on one machine (see ``TUNING``) and restarted once.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from audience_dagster.errors import WarehouseError

WAREHOUSE_DB = "audience"
DAGSTER_DB = "dagster"

# A development warehouse on one machine: bigger caches than the 128MB default, fewer
# checkpoints during bulk loads, and asynchronous commit (a crash can lose the last few
# hundred milliseconds of commits, never corrupt data; re-running ingest is idempotent).
TUNING: dict[str, str] = {
    "shared_buffers": "1GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "15min",
    "synchronous_commit": "off",
    "max_connections": "200",
}


def ensure_embedded(pgdata: Path) -> tuple[str, str]:
    """Start (or reuse) the embedded server; return (warehouse_url, dagster_url).

    Creates the ``audience`` and ``dagster`` databases on first start.
    """
    pgdata = pgdata.resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    runtime = pgdata.parent / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    try:
        import fasteners
        import pgserver

        # one process at a time starts/tunes the server (xdist workers, demo + tests)
        with fasteners.InterProcessLock(str(pgdata.parent / "embedded.lock")), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = pgserver.get_server(pgdata, cleanup_mode=None)
            if _apply_tuning(server.get_uri("postgres")):
                from pgserver._commands import pg_ctl

                pg_ctl(
                    ["-w", "-m", "fast", "-l", str(server.log), "restart"],
                    pgdata=server.pgdata,
                    user=server.system_user,
                    timeout=60,
                )
            _create_databases(server.get_uri("postgres"), (WAREHOUSE_DB, DAGSTER_DB))
    except Exception as exc:  # pgserver raises plain exceptions with the server log inside
        raise WarehouseError(
            f"could not start the embedded PostgreSQL in {pgdata}: {exc}. "
            f"Look at {pgdata}/log, or delete {pgdata} to start from scratch"
        ) from exc
    return server.get_uri(WAREHOUSE_DB), server.get_uri(DAGSTER_DB)


def _apply_tuning(admin_url: str) -> bool:
    """Write ``TUNING`` with ALTER SYSTEM where it differs; True if a restart is needed."""
    import psycopg2

    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT name, current_setting(name), context FROM pg_settings WHERE name = ANY(%s)", (list(TUNING),)
            )
            current = {name: (value, context) for name, value, context in cur.fetchall()}
            restart = False
            for name, wanted in TUNING.items():
                value, context = current[name]
                if value == wanted:
                    continue
                cur.execute(f"ALTER SYSTEM SET {name} = %s", (wanted,))
                restart |= context == "postmaster"
            cur.execute("SELECT pg_reload_conf()")
            return restart
    finally:
        conn.close()


def _create_databases(admin_url: str, names: tuple[str, ...]) -> None:
    import psycopg2

    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT datname FROM pg_database")
            existing = {row[0] for row in cur.fetchall()}
            for name in names:
                if name not in existing:
                    cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()

"""The embedded PostgreSQL: a real PostgreSQL 16 server from the ``pgserver`` wheel.

It lives in a project-local data directory, listens on a Unix socket (no TCP port) and keeps
running after the process that started it exits, so later commands (tests, ``dagster dev``, the
CLI) reuse it. Starting it when it already runs is a cheap no-op. On first start it is tuned
for analytics on one machine (see ``TUNING``) and restarted once.

A server that was stopped is started here, not by pgserver (whose start gives up after 10 s):
after a crash or a ``kill -9`` PostgreSQL first replays its write-ahead log, which can take
minutes after a big load, so :func:`start_stopped_server` says so and waits for it to be ready
(up to ``AUDIENCE_PG_START_TIMEOUT_SECONDS``), reporting progress from the server's log.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from audience_dagster.config import export_environment
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
    # a session whose client went away (a killed refresh) cancels its query within seconds
    "client_connection_check_interval": "2s",
}


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _log_tail(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][:200] if lines else ""


def start_stopped_server(
    pgdata: Path, timeout_seconds: float, report: Callable[[str], None] = _stderr, poll_seconds: float = 0.5
) -> bool:
    """Start an initialised server that is not running and wait until it accepts connections,
    however long crash recovery takes (within ``timeout_seconds``). False when it already ran
    or is new (pgserver creates and starts new ones)."""
    from pgserver import PostgresServer
    from pgserver._commands import pg_ctl
    from pgserver.utils import find_suitable_socket_dir

    if not (pgdata / "PG_VERSION").exists():
        return False
    before = postmaster_info(pgdata)
    if before is not None and before.is_running() and before.status == "ready":
        return False
    log = pgdata / "log"
    if before is not None and not before.is_running():
        report(
            f"[warehouse] the embedded PostgreSQL in {pgdata} did not shut down cleanly (a crash or a kill);"
            " starting it replays its write-ahead log first, which can take minutes after a big load: waiting"
        )
    if before is None or not before.is_running():
        socket_dir = find_suitable_socket_dir(pgdata, PostgresServer.runtime_path)
        user = "pgserver" if os.name == "posix" and os.geteuid() == 0 else None
        pg_ctl(["-W", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(log), "start"], pgdata=pgdata, user=user)
    return _wait_ready(pgdata, log, timeout_seconds, report, poll_seconds)


def postmaster_info(pgdata: Path):
    """The server's ``postmaster.pid`` as pgserver reads it, or None when there is none yet or it is
    still being written: PostgreSQL writes it line by line while it starts, and pgserver's reader
    raises on a file without its last (status) line."""
    from pgserver.utils import PostmasterInfo

    try:
        return PostmasterInfo.read_from_pgdata(pgdata)
    except (AssertionError, ValueError):
        return None


def _wait_ready(
    pgdata: Path, log: Path, timeout_seconds: float, report: Callable[[str], None], poll_seconds: float
) -> bool:
    started = last_report = time.monotonic()
    while True:
        info = postmaster_info(pgdata)
        if info is not None and info.is_running() and info.status == "ready":
            waited = time.monotonic() - started
            if waited > 5:
                report(f"[warehouse] the embedded PostgreSQL is ready (after {waited:.0f}s)")
            return True
        waited = time.monotonic() - started
        if info is not None and not info.is_running() and waited > 5:
            raise WarehouseError(f"the embedded PostgreSQL in {pgdata} stopped while starting: {_log_tail(log)}")
        if waited > timeout_seconds:
            raise WarehouseError(
                f"the embedded PostgreSQL in {pgdata} is still starting after {waited:.0f}s ({_log_tail(log)}); "
                "wait and retry, or raise AUDIENCE_PG_START_TIMEOUT_SECONDS"
            )
        if time.monotonic() - last_report >= 15:
            report(f"[warehouse] still starting after {waited:.0f}s: {_log_tail(log)}")
            last_report = time.monotonic()
        time.sleep(poll_seconds)


def ensure_embedded(pgdata: Path, start_timeout_seconds: float = 1800) -> tuple[str, str]:
    """Start (or reuse) the embedded server; return (warehouse_url, dagster_url).

    Creates the ``audience`` and ``dagster`` databases on first start.
    """
    pgdata = pgdata.resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    runtime = pgdata.parent / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    export_environment({"XDG_RUNTIME_DIR": str(runtime)}, keep_existing=True)
    try:
        import fasteners
        import pgserver

        # one process at a time starts/tunes the server (xdist workers, demo + tests)
        with fasteners.InterProcessLock(str(pgdata.parent / "embedded.lock")), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start_stopped_server(pgdata, start_timeout_seconds)
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
    except WarehouseError:
        raise
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

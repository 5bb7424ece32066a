"""The scratch database every benchmark and evaluation runs in, so the demo warehouse is never
touched: a database on the embedded server, recreated each run and dropped afterwards, or the
one ``AUDIENCE_BENCH_DATABASE_URL`` names (wiped at the start, kept afterwards)."""

from __future__ import annotations

from audience_dagster.config import load_settings
from audience_dagster.warehouse.connection import connect, connection, resolve_warehouse, with_database

BENCH_DB = "audience_bench"


def bench_database_url(name: str = BENCH_DB) -> str:
    """A fresh database ``name`` on the embedded server (or ``AUDIENCE_BENCH_DATABASE_URL``, its
    raw schema dropped); its URL."""
    settings = load_settings()
    explicit = settings.bench_database_url
    if explicit:
        with connection(explicit) as conn, conn.cursor() as cur:
            cur.execute("DROP SCHEMA IF EXISTS raw CASCADE")
        return explicit
    if not settings.embedded:
        raise SystemExit(
            "bench runs on the embedded server; to use another server set "
            "AUDIENCE_BENCH_DATABASE_URL to a scratch database (it is wiped)"
        )
    url = resolve_warehouse(settings).url
    admin(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    return with_database(url, name)


def drop_bench_database(url: str, name: str, keep: bool = False) -> None:
    """Drop the scratch database ``name`` unless ``keep`` or it is ``AUDIENCE_BENCH_DATABASE_URL``'s."""
    if not keep and not load_settings().bench_database_url:
        admin(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def admin(url: str, *statements: str) -> None:
    """Run database-level statements (outside a transaction) on the server of ``url``."""
    conn = connect(with_database(url, "postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()

"""Resolve the warehouse from the settings and hand out connections.

One setting decides everything: with ``DATABASE_URL`` set, the warehouse, dbt and Dagster's
instance storage all use that server; without it, all use the embedded one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import psycopg2
import psycopg2.extensions

from audience_dagster.activation.schema import ensure_schema as ensure_activation_schema
from audience_dagster.config import Settings, load_settings
from audience_dagster.errors import ConfigError, WarehouseError
from audience_dagster.warehouse.embedded import ensure_embedded


@dataclass(frozen=True)
class Warehouse:
    """Where the data lives (``url``) and where Dagster keeps runs and events (``dagster_url``)."""

    url: str
    dagster_url: str
    embedded: bool


def resolve_warehouse(settings: Settings | None = None) -> Warehouse:
    """Start the embedded server if needed and return the URLs to use."""
    settings = settings or load_settings()
    if settings.embedded:
        url, dagster_url = ensure_embedded(settings.pgdata_dir, settings.pg_start_timeout_seconds)
        return Warehouse(url=url, dagster_url=settings.dagster_database_url or dagster_url, embedded=True)
    assert settings.database_url is not None
    return Warehouse(
        url=settings.database_url,
        dagster_url=settings.dagster_database_url or settings.database_url,
        embedded=False,
    )


# Sessions check every 2 s whether their client is still there and cancel their query when it
# is gone: a killed `audience refresh` (and its dbt) stops writing the warehouse within seconds
# instead of finishing a long statement nobody will commit. dbt's connections get it through
# PGOPTIONS (libpq), ours with the options below.
CLIENT_CHECK = "-c client_connection_check_interval=2s"


def connect(url: str) -> psycopg2.extensions.connection:
    """Open a psycopg2 connection in UTC; raise :class:`WarehouseError` with the target named.

    ``temp_buffers`` is raised (it must be set before the session's first temp table) because
    ingest stages each landing file in a temp table: 8MB spills at once, 512MB is 30% faster.
    """
    try:
        conn = psycopg2.connect(url, options=f"-c temp_buffers=512MB {CLIENT_CHECK}")
    except psycopg2.OperationalError as exc:
        raise WarehouseError(
            f"cannot connect to PostgreSQL at {redact(url)}: {str(exc).strip()}. "
            "Check DATABASE_URL, or unset it to use the embedded server"
        ) from exc
    with conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
    conn.commit()
    return conn


@contextmanager
def connection(url: str) -> Iterator[psycopg2.extensions.connection]:
    """``with connection(url) as conn:`` — commits on success, rolls back on error, closes."""
    conn = connect(url)
    try:
        yield conn
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()


def redact(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    parsed = urlparse(url)
    if parsed.password:
        netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
        return parsed._replace(netloc=netloc).geturl()
    return url


def connection_parts(url: str) -> dict[str, str]:
    """Split a postgresql:// URL into host/port/user/password/dbname/sslmode.

    Unix-socket URLs (``postgresql://user@/db?host=/path``) give the directory as host.
    """
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        raise ConfigError(f"not a postgresql:// URL: {redact(url)}")
    query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    host = query.get("host") or parsed.hostname or "localhost"
    return {
        "host": unquote(host),
        "port": str(query.get("port") or parsed.port or 5432),
        "user": unquote(parsed.username or query.get("user") or "postgres"),
        "password": unquote(parsed.password or query.get("password") or ""),
        "dbname": unquote(parsed.path.lstrip("/") or query.get("dbname") or "postgres"),
        "sslmode": query.get("sslmode", "prefer"),
    }


def with_database(url: str, dbname: str) -> str:
    """The same server URL with another database name."""
    parsed = urlparse(url)
    return parsed._replace(path=f"/{dbname}").geturl()


def dbt_env(url: str) -> dict[str, str]:
    """The ``AUDIENCE_PG_*`` variables ``dbt_project/profiles.yml`` reads."""
    parts = connection_parts(url)
    return {f"AUDIENCE_PG_{key.upper()}": value for key, value in parts.items()}


def export_env(warehouse: Warehouse) -> None:
    """Put the resolved warehouse into this process's environment for dbt and child processes.

    Also puts this interpreter's bin directory on PATH, so the ``dbt`` and ``dagster`` of the
    project's environment are found even when the virtualenv is not activated (``make``), and
    sets ``PGOPTIONS`` (:data:`CLIENT_CHECK`) and dbt's indirect test selection for dbt.
    """
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
    os.environ.update(dbt_env(warehouse.url))
    os.environ["PGOPTIONS"] = CLIENT_CHECK
    # the project is built in stages (transform/dbt.py): a test runs with the stage that builds
    # the last of its models, never before one of them exists (dagster-dbt overrides this when it
    # selects tests itself)
    os.environ["DBT_INDIRECT_SELECTION"] = "buildable"
    os.environ["AUDIENCE_WAREHOUSE_URL"] = warehouse.url
    os.environ["AUDIENCE_DAGSTER_PG_URL"] = sqlalchemy_url(warehouse.dagster_url)


def sqlalchemy_url(url: str) -> str:
    """SQLAlchemy 2.1 picks psycopg 3 for ``postgresql://``; Dagster needs psycopg2."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg2://{rest}" if scheme in ("postgres", "postgresql") else url


def bootstrap(url: str) -> None:
    """Create the raw schema, ledger, quarantine, helper functions and the scores, predictions,
    segments, cohorts and activation tables (idempotent)."""
    ddl = resources.files("audience_dagster.ingest").joinpath("sql/raw_schema.sql").read_text()
    functions = resources.files("audience_dagster.ingest").joinpath("sql/functions.sql")
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('audience.bootstrap'))")
        cur.execute("SHOW server_version_num")
        version = int(cur.fetchone()[0])
        if version < 160000:
            raise WarehouseError(
                f"PostgreSQL {version // 10000} at {redact(url)} is too old: the project needs "
                "PostgreSQL 16 or newer (set-based input validation uses pg_input_is_valid)"
            )
        cur.execute(ddl)
        cur.execute(functions.read_text())
        cur.execute(resources.files("audience_dagster.scoring").joinpath("sql/scores_schema.sql").read_text())
        cur.execute(resources.files("audience_dagster.predictions").joinpath("sql/predictions_schema.sql").read_text())
        cur.execute(resources.files("audience_dagster.segments").joinpath("sql/segments_schema.sql").read_text())
        ensure_activation_schema(cur)

"""Shared fixtures: a real PostgreSQL (the embedded server) with one database per xdist worker.

Integration tests never touch the demo's ``audience`` database: each worker gets a fresh
``audience_test_<worker>`` database on the same embedded server, and the code under test is
pointed at it through ``DATABASE_URL`` — the same single setting a user would use.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from audience_dagster.config import load_settings
from audience_dagster.warehouse.connection import bootstrap, connect, connection, with_database
from audience_dagster.warehouse.embedded import ensure_embedded


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that reaches the database (it uses ``warehouse_url``, directly or through
    another fixture) is an integration test: ``make test-unit`` (``-m "not integration"``)
    leaves it out."""
    for item in items:
        if "warehouse_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


def admin(url: str, *statements: str) -> None:
    """Database-level statements (outside a transaction) on the server of ``url``."""
    conn = connect(with_database(url, "postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()


def fresh_database(server_url: str, name: str) -> str:
    """An empty database ``name`` on the server of ``server_url`` (dropped first); its URL."""
    admin(server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    return with_database(server_url, name)


@pytest.fixture(scope="session")
def warehouse_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AUDIENCE_DATABASE_URL")}
    settings = load_settings(env)
    base_url, _ = ensure_embedded(settings.pgdata_dir)
    url = fresh_database(base_url, f"audience_test_{worker_id}".replace("-", "_"))
    home = tmp_path_factory.mktemp("audience_home")
    saved = {
        k: os.environ.get(k) for k in ("DATABASE_URL", "AUDIENCE_HOME", "AUDIENCE_LANDING_DIR", "AUDIENCE_MODELS_DIR")
    }
    os.environ.update(
        DATABASE_URL=url,
        AUDIENCE_HOME=str(home),
        AUDIENCE_LANDING_DIR=str(home / "landing"),
        AUDIENCE_MODELS_DIR=str(home / "models"),
    )
    yield url
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def clear_landing() -> Path:
    """Empty the session's landing folder (tests write into it; the definitions, imported once
    per process, read it) and return it."""
    landing = Path(os.environ["AUDIENCE_LANDING_DIR"])
    shutil.rmtree(landing, ignore_errors=True)
    landing.mkdir(parents=True)
    return landing


@pytest.fixture()
def empty_landing(warehouse_url: str) -> Path:
    """The session's landing folder, empty: no other test's files get loaded."""
    return clear_landing()


@pytest.fixture()
def empty_raw(warehouse_url: str) -> str:
    """The warehouse with an empty raw schema (and nothing downstream of it)."""
    with connection(warehouse_url) as conn, conn.cursor() as cur:
        for schema in ("raw", "staging", "intermediate", "identity"):
            cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    bootstrap(warehouse_url)
    return warehouse_url


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))
    return path

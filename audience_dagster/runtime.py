"""Everything a process does before it runs the pipeline: one call for the CLI and the tests."""

from __future__ import annotations

import hashlib
from importlib.metadata import version

from audience_dagster.config import DBT_PROJECT_DIR, Settings, load_settings
from audience_dagster.warehouse.connection import (
    Warehouse,
    bootstrap,
    dbt_env,
    export_env,
    resolve_warehouse,
)
from audience_dagster.warehouse.dagster_home import prepare_dagster_home

STAMP = DBT_PROJECT_DIR / "target" / ".audience-manifest"
_SKIP = {"target", "logs", "dbt_packages"}


def manifest_fingerprint(warehouse_url: str) -> str:
    """What the parsed manifest depends on: every project file (name, size, mtime), the
    connection dbt parses against (the database name is in every node) and the dbt version."""
    digest = hashlib.sha256(version("dbt-core").encode())
    for path in sorted(DBT_PROJECT_DIR.rglob("*")):
        relative = path.relative_to(DBT_PROJECT_DIR)
        if path.is_file() and relative.parts[0] not in _SKIP:
            stat = path.stat()
            digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    for key, value in sorted(dbt_env(warehouse_url).items()):
        if key != "AUDIENCE_PG_PASSWORD":
            digest.update(f"{key}={value}\n".encode())
    return digest.hexdigest()


def prepare_dbt_manifest(warehouse_url: str) -> bool:
    """``dbt parse`` unless the manifest is already that of these files and this connection (a
    parse costs 5-15 s of CPU per command); True if it parsed. One process parses at a time."""
    import fasteners

    from audience_dagster.transform.project import dbt_project

    fingerprint = manifest_fingerprint(warehouse_url)
    STAMP.parent.mkdir(parents=True, exist_ok=True)
    with fasteners.InterProcessLock(str(STAMP.with_suffix(".lock"))):
        manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
        if manifest.exists() and STAMP.exists() and STAMP.read_text() == fingerprint:
            return False
        dbt_project.preparer.prepare(dbt_project)
        STAMP.write_text(fingerprint)
    return True


def prepare_runtime(settings: Settings | None = None, *, parse_dbt: bool = True) -> Warehouse:
    """Start/resolve the warehouse, create the raw schema, point Dagster's instance storage at
    Postgres and (re)parse the dbt project when it changed, so the definitions load with a
    current manifest."""
    settings = settings or load_settings()
    warehouse = resolve_warehouse(settings)
    export_env(warehouse)
    bootstrap(warehouse.url)
    prepare_dagster_home(settings.dagster_home)
    if parse_dbt:
        prepare_dbt_manifest(warehouse.url)
    return warehouse

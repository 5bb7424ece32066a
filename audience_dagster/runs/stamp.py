"""Nothing new since the last refresh? Decided in about a second, before Dagster starts.

A refresh that finds nothing new does nothing (:mod:`.refresh`), but reaching that answer costs
the start-up of Dagster and dagster-dbt (importing the definitions) and an ingest pass that reads
and hashes every landing file: tens of seconds, growing with the landing folder. So every refresh
that ends well leaves a *stamp* (``$AUDIENCE_HOME/last-refresh.json``) of what its decision
rested on, and the next refresh compares the stamp with what is there now, in the order of cost:

1. **code and settings** — the stat (name, size, mtime) of every file of the package and the dbt
   project (with dbt's connection), the destination / junk / pricing definitions the settings
   point at, the versions of the package, Dagster and dbt, and every setting except the clock
   (``AUDIENCE_AS_OF``: a refresh with nothing new does nothing at any ``as_of``);
2. **the landing folder** — the stat of every landing file, as listed *before* that refresh's
   ingest pass (a file that arrived during the run is not in it, so it is loaded next time);
3. **the warehouse and the instance**, read under the refresh lock (a refresh in progress means
   "not known": the normal path queues behind it) — the ingest ledger's versions per table (what
   the ingest assets' data versions are made of: a file loaded by ``import-orders``, an erasure,
   a new quarantine row), the hand-made identity decisions, and Dagster's instance — the latest
   event id, the asset wipes, the runs (any run, materialisation, observation, wipe or deleted
   run since, from the UI, a schedule or a sensor, moves them) — with no run queued or in progress.

All equal: nothing the refresh would look at changed, so its answer is the one the last refresh
reached — nothing to load, nothing stale — and the command says so without starting Dagster.
Anything different, unreadable or missing: the normal path runs and decides (and stamps again).
A refresh whose ingest pass rejected a file writes no stamp, so a rejected file is retried every
time, as before. ``--full`` never looks at the stamp.

A file rewritten with the same size and modification time is taken as unchanged (as make, rsync
and git's index do); one modified in the last two seconds is not trusted yet (git's "racy clean"
rule), so a stamp taken while files are still being written never matches.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from audience_dagster.config import PROJECT_ROOT, Settings
from audience_dagster.errors import RunInProgressError
from audience_dagster.ingest.folders import landing_paths
from audience_dagster.ingest.landing import RACY_SECONDS
from audience_dagster.ingest.ledger import LEDGER_VERSIONS_SQL
from audience_dagster.runs.lock import RefreshLock
from audience_dagster.runtime import manifest_fingerprint
from audience_dagster.warehouse.connection import Warehouse, connection

STAMP_NAME = "last-refresh.json"
STAMP_VERSION = 1
PACKAGE_DIR = PROJECT_ROOT / "audience_dagster"
_DISTRIBUTIONS = ("audience-dagster", "dagster", "dagster-dbt", "dbt-core", "dbt-postgres")
_SKIP_DIRS = {"__pycache__", "target", "logs", "dbt_packages", ".pytest_cache"}
_ACTIVE_RUN_STATUSES = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")


@dataclass(frozen=True)
class Stamp:
    """What a successful refresh's decision rested on (digests), and when it was written."""

    code: str
    landing: str
    state: str
    written_at: str
    run_ids: tuple[str, ...] = ()
    landing_files: int = 0

    def to_json(self) -> str:
        return json.dumps({"version": STAMP_VERSION, **self.__dict__, "run_ids": list(self.run_ids)}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Stamp | None:
        try:
            data = json.loads(text)
            if data.pop("version", None) != STAMP_VERSION:
                return None
            data["run_ids"] = tuple(data.get("run_ids", ()))
            return cls(**data)
        except (ValueError, TypeError):
            return None


def stamp_path(settings: Settings) -> Path:
    return settings.home / STAMP_NAME


def _digest(lines: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8", "surrogateescape"))
        digest.update(b"\n")
    return digest.hexdigest()


def _stat_lines(files: Iterable[Path]) -> Iterator[str]:
    for path in files:
        stat = _stat(path)
        yield f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}" if stat else f"{path}\0-"


def _tree(root: Path) -> list[Path]:
    """Every file under ``root`` (or ``root`` itself), name order, build and cache folders skipped."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        return []
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        found += [Path(folder) / name for name in sorted(files) if not name.endswith((".pyc", ".lock"))]
    return found


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


def code_digest(settings: Settings, warehouse: Warehouse) -> str:
    """The package and the definitions the settings point at (stat of every file), the dbt
    project and its connection, the versions that run them, and the settings (minus the clock:
    a refresh with nothing new does nothing at any ``as_of``)."""
    roots = [PACKAGE_DIR, settings.activation.destinations_dir, settings.activation.pricing_policy]
    if settings.identity_junk_file is not None:
        roots.append(settings.identity_junk_file)
    lines = [f"{name}=={_version(name)}" for name in _DISTRIBUTIONS]
    for root in roots:
        lines.append(f"# {root}")
        lines += _stat_lines(_tree(root))
    lines.append(f"dbt {manifest_fingerprint(warehouse.url)}")
    lines.append(repr(replace(settings, as_of=None)))
    return _digest(lines)


def landing_digest(landing_dir: Path) -> tuple[str, int]:
    """(digest of the stat of every landing file, how many there are). A file modified in the
    last :data:`RACY_SECONDS` may change again within its time's granularity: then the digest is
    one no later listing matches (the next refresh takes the normal path)."""
    paths = landing_paths(landing_dir)
    recent = time.time_ns() - RACY_SECONDS * 1e9
    lines, racy = [], False
    for path, stat in zip(paths, map(_stat, paths), strict=True):
        lines.append(f"{path.relative_to(landing_dir)}\0{stat.st_size}\0{stat.st_mtime_ns}" if stat else f"{path}\0-")
        racy = racy or stat is None or stat.st_mtime_ns > recent
    if racy:
        lines.append(f"racy {time.time_ns()} {os.getpid()}")
    return _digest(lines), len(paths)


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


_WAREHOUSE_SQL = """
SELECT (SELECT oid FROM pg_database WHERE datname = current_database())::text,
       CASE WHEN to_regclass('identity.manual_operations') IS NULL THEN ''
            ELSE (SELECT count(*) || ':' || coalesce(max(requested_at)::text, '')
                  FROM identity.manual_operations) END
"""
_INSTANCE_STATE_SQL = """
SELECT (SELECT oid FROM pg_database WHERE datname = current_database())::text,
       (SELECT coalesce(max(id), 0) FROM event_logs)::text,
       (SELECT count(*) || ':' || coalesce(max(wipe_timestamp)::text, '') FROM asset_keys),
       (SELECT count(*) || ':' || coalesce(max(id), 0) FROM runs),
       (SELECT count(*) FROM runs WHERE status = ANY(%s))
"""


def state_digest(warehouse: Warehouse) -> str | None:
    """The warehouse's ingest ledger, quarantine and manual identity decisions, and the Dagster
    instance's event log; None when a run is in progress or the instance has no storage yet."""
    with connection(warehouse.url) as conn, conn.cursor() as cur:
        cur.execute(_WAREHOUSE_SQL)
        warehouse_row = cur.fetchone()
        cur.execute(LEDGER_VERSIONS_SQL)  # the raw tables' versions, as the ingest assets report them
        ledger = sorted(cur.fetchall())
    with connection(warehouse.dagster_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('event_logs') IS NOT NULL AND to_regclass('runs') IS NOT NULL")
        if not cur.fetchone()[0]:
            return None
        cur.execute(_INSTANCE_STATE_SQL, (list(_ACTIVE_RUN_STATUSES),))
        *instance_row, active = cur.fetchone()
    if active:
        return None
    return _digest([*map(str, warehouse_row), *(f"{name}={version}" for name, version in ledger), *instance_row])


def rejected_since(warehouse: Warehouse, since: datetime) -> int:
    """Files the ledger recorded as rejected at or after ``since`` (the warehouse's clock)."""
    with connection(warehouse.url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM raw.loaded_files WHERE status = 'rejected' AND loaded_at >= %s", (since,))
        return int(cur.fetchone()[0])


def warehouse_now(warehouse: Warehouse) -> datetime:
    with connection(warehouse.url) as conn, conn.cursor() as cur:
        cur.execute("SELECT now()")
        return cur.fetchone()[0]


def read_stamp(settings: Settings) -> Stamp | None:
    try:
        return Stamp.from_json(stamp_path(settings).read_text())
    except OSError:
        return None


def write_stamp(settings: Settings, stamp: Stamp) -> None:
    """Replace the stamp atomically (a reader sees the old one or the new one)."""
    path = stamp_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(stamp.to_json())
    os.replace(partial, path)


def forget_stamp(settings: Settings) -> None:
    with contextlib.suppress(FileNotFoundError):
        stamp_path(settings).unlink()


def up_to_date(settings: Settings, warehouse: Warehouse) -> Stamp | None:
    """The last refresh's stamp when nothing it rested on changed since (see the module
    docstring), else None. Takes the refresh lock without waiting for the warehouse check."""
    stamp = read_stamp(settings)
    if stamp is None or stamp.code != code_digest(settings, warehouse):
        return None
    if landing_digest(settings.landing_dir)[0] != stamp.landing:
        return None
    try:
        with RefreshLock(warehouse.url, label="audience refresh (up-to-date check)").acquire(wait=False):
            state = state_digest(warehouse)
    except RunInProgressError:
        return None
    return stamp if state is not None and state == stamp.state else None


@dataclass(frozen=True)
class Before:
    """What a refresh notes before its ingest pass, to stamp with after it."""

    code: str
    landing: str
    landing_files: int
    started_at: datetime  # the warehouse's clock


def note_before(settings: Settings, warehouse: Warehouse) -> Before:
    landing, files = landing_digest(settings.landing_dir)
    return Before(code_digest(settings, warehouse), landing, files, warehouse_now(warehouse))


def stamp_after(settings: Settings, warehouse: Warehouse, before: Before, run_ids: Iterable[str]) -> Stamp | None:
    """Write the stamp of a refresh that ended well (call it under the refresh lock); None (and no
    stamp) when its ingest pass rejected a file or another run is in progress."""
    state = state_digest(warehouse)
    if state is None or rejected_since(warehouse, before.started_at):
        forget_stamp(settings)
        return None
    stamp = Stamp(
        code=before.code,
        landing=before.landing,
        state=state,
        written_at=datetime.now(UTC).isoformat(timespec="seconds"),
        run_ids=tuple(run_ids),
        landing_files=before.landing_files,
    )
    write_stamp(settings, stamp)
    return stamp

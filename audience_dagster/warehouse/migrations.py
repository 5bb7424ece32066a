"""Versioned schema migrations: numbered files per capability, recorded in ``meta.schema_versions``.

Each capability keeps its migrations in its own ``sql/`` folder, one file per version, named
``NNN_what_it_does.sql`` (or ``.py`` with an ``upgrade(cur)`` function, for a step SQL cannot
say alone, such as seeding rows from Python defaults). :func:`migrate` applies the pending ones
in order, each in its own transaction with its row in ``meta.schema_versions``:

* **concurrent-safe**: a session advisory lock is held while migrating and the versions are
  read again once it is held, so two processes starting at once never both migrate;
* **fails alone**: a failing migration rolls back and raises :class:`MigrationError` naming the
  file and PostgreSQL's error; the versions before it stay applied;
* **edits detected**: the sha256 of every applied file is kept; an applied file whose text
  changed raises (add a new migration instead) unless ``accept_edited`` records the new text;
* **baseline**: the files of the first versioned release are idempotent (``IF NOT EXISTS``,
  guarded ``DO`` blocks), so a warehouse an unversioned release made (objects present, no
  version rows) is adopted by running them: they create what is missing and convert older
  shapes; their rows are marked ``baseline``;
* **dropped objects**: a capability whose tables or views (those its files create and do not
  drop later) are gone — a ``DROP SCHEMA … CASCADE`` — has its versions forgotten and is
  migrated again from version 1.

When nothing is pending the check is two catalogue reads: no lock, no write.
See docs/schema.md for how to add a migration.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable

import psycopg2
import psycopg2.extensions

from audience_dagster.errors import MigrationError

LOCK_KEY = "audience.schema_migrations"
META_DDL = """
CREATE SCHEMA IF NOT EXISTS meta;
CREATE TABLE IF NOT EXISTS meta.schema_versions (
    capability   text        NOT NULL,
    version      integer     NOT NULL,
    name         text        NOT NULL,  -- the file, e.g. 001_raw_schema.sql
    checksum     text        NOT NULL,  -- sha256 of the file's bytes as applied
    applied_at   timestamptz NOT NULL DEFAULT now(),
    execution_ms integer     NOT NULL,
    baseline     boolean     NOT NULL DEFAULT false,  -- adopted a warehouse made before migrations
    PRIMARY KEY (capability, version)
)
"""
COMMENT = re.compile(r"--[^\n]*|#[^\n]*")
FILE_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.(sql|py)$")
# CREATE [OR REPLACE] TABLE|VIEW [IF NOT EXISTS] s.t, or DROP TABLE|VIEW [IF EXISTS] s.t
RELATION_DDL = re.compile(
    r"\b(CREATE|DROP)\s+(?:OR\s+REPLACE\s+)?(?:TABLE|VIEW)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?"
    r"([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Migration:
    """One file of a capability's ``sql/`` folder."""

    capability: str
    version: int
    name: str
    text: str
    checksum: str

    @property
    def where(self) -> str:
        return f"{self.capability}/sql/{self.name}"

    def apply(self, cur: psycopg2.extensions.cursor) -> None:
        if self.name.endswith(".sql"):
            cur.execute(self.text)
            return
        namespace: dict[str, object] = {"__name__": f"migration_{self.capability}_{self.version:03d}"}
        exec(compile(self.text, self.where, "exec"), namespace)  # noqa: S102 - our own file
        upgrade = namespace.get("upgrade")
        if not callable(upgrade):
            raise MigrationError(f"{self.where}: a Python migration must define upgrade(cur)")
        upgrade(cur)


@dataclass(frozen=True)
class Capability:
    """A unit that owns its schema: ``folder`` holds its numbered migration files."""

    name: str
    folder: Traversable

    def migrations(self) -> list[Migration]:
        """The files in version order; a badly named or duplicate-numbered file is an error."""
        found: dict[int, Migration] = {}
        for entry in self.folder.iterdir():
            if entry.name.startswith((".", "_")) or not entry.is_file():
                continue
            match = FILE_NAME.match(entry.name)
            if not match:
                raise MigrationError(
                    f"{self.name}/sql/{entry.name}: not a migration name; use NNN_what_it_does.sql "
                    "(three digits, lower-case words) or .py"
                )
            version = int(match.group(1))
            if version in found:
                raise MigrationError(
                    f"{self.name}/sql: {found[version].name} and {entry.name} both claim version {version}; "
                    "renumber one"
                )
            data = entry.read_bytes()
            checksum = hashlib.sha256(data).hexdigest()
            found[version] = Migration(self.name, version, entry.name, data.decode("utf-8"), checksum)
        return [found[version] for version in sorted(found)]


def owned_relations(migrations: Sequence[Migration]) -> list[str]:
    """The tables and views the files create and do not drop later, in first-created order."""
    owned: dict[str, None] = {}
    for migration in migrations:
        for verb, relation in RELATION_DDL.findall(COMMENT.sub("", migration.text)):
            if verb.upper() == "CREATE":
                owned[relation.lower()] = None
            else:
                owned.pop(relation.lower(), None)
    return list(owned)


@dataclass(frozen=True)
class Applied:
    """A row of ``meta.schema_versions``."""

    version: int
    name: str
    checksum: str
    baseline: bool


@dataclass
class CapabilityStatus:
    """What a warehouse holds of one capability against what the code ships."""

    capability: Capability
    files: list[Migration]
    applied: dict[int, Applied] = field(default_factory=dict)
    # the tables and views the applied files (all files, when none is) create, and those absent
    relations: list[str] = field(default_factory=list)
    missing_relations: list[str] = field(default_factory=list)

    @property
    def adopting(self) -> bool:
        """No version recorded yet, but some of its objects exist: a release before migrations."""
        return not self.applied and len(self.missing_relations) < len(self.relations)

    @property
    def dropped(self) -> bool:
        """Versions recorded, but objects they created are gone (a DROP SCHEMA … CASCADE)."""
        return bool(self.applied and self.missing_relations)

    @property
    def version(self) -> int:
        return max(self.applied, default=0)

    @property
    def latest(self) -> int:
        return self.files[-1].version if self.files else 0

    @property
    def pending(self) -> list[Migration]:
        if self.dropped:
            return list(self.files)
        return [m for m in self.files if m.version not in self.applied]

    @property
    def edited(self) -> list[Migration]:
        return [m for m in self.files if m.version in self.applied and self.applied[m.version].checksum != m.checksum]

    @property
    def unknown(self) -> list[int]:
        """Versions recorded in the warehouse that no file of this code knows (a newer release)."""
        known = {m.version for m in self.files}
        return sorted(v for v in self.applied if v not in known)

    @property
    def state(self) -> str:
        if self.unknown:
            return "newer than this code"
        if self.edited:
            return "edited after applying"
        if self.dropped:
            return f"objects dropped ({', '.join(self.missing_relations[:3])}): will re-create"
        if self.adopting:
            return f"{len(self.pending)} pending: adopts the tables a release before migrations made"
        return f"{len(self.pending)} pending" if self.pending else "up to date"


def read_status(conn: psycopg2.extensions.connection, capabilities: Sequence[Capability]) -> list[CapabilityStatus]:
    """Each capability's applied versions and files, from the catalogue (reads only)."""
    statuses = [CapabilityStatus(cap, cap.migrations()) for cap in capabilities]
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('meta.schema_versions') IS NOT NULL")
        if cur.fetchone()[0]:
            cur.execute(
                "SELECT capability, version, name, checksum, baseline FROM meta.schema_versions"
                " WHERE capability = ANY(%s)",
                ([cap.name for cap in capabilities],),
            )
            by_name = {status.capability.name: status for status in statuses}
            for capability, version, name, checksum, baseline in cur.fetchall():
                by_name[capability].applied[version] = Applied(version, name, checksum, baseline)
        for status in statuses:
            applied_files = [m for m in status.files if m.version in status.applied]
            status.relations = owned_relations(applied_files or status.files)
            cur.execute("SELECT r FROM unnest(%s::text[]) AS r WHERE to_regclass(r) IS NULL", (status.relations,))
            status.missing_relations = [row[0] for row in cur.fetchall()]
    return statuses


def check_status(statuses: Sequence[CapabilityStatus], *, accept_edited: bool = False) -> None:
    """Raise when a warehouse is newer than the code or an applied file was edited."""
    for status in statuses:
        if status.unknown:
            raise MigrationError(
                f"the warehouse holds {status.capability.name} versions {status.unknown} that this code does not "
                f"ship (it knows up to {status.latest}): a newer release migrated it; run that release"
            )
        if status.edited and not accept_edited:
            names = ", ".join(m.where for m in status.edited)
            raise MigrationError(
                f"{names}: changed since it was applied to this warehouse (checksum differs). Restore the file and "
                "put the change in a new migration; if the edit changes nothing in the database (a comment), "
                "run `audience db upgrade --accept-edited`"
            )


def migrate(
    conn: psycopg2.extensions.connection, capabilities: Sequence[Capability], *, accept_edited: bool = False
) -> list[Migration]:
    """Apply every pending migration of ``capabilities`` (in the order given); returns those applied.

    Commits the connection's open transaction when there is work to do; when there is none it
    only reads the catalogue."""
    statuses = read_status(conn, capabilities)
    check_status(statuses, accept_edited=accept_edited)
    if not any(s.pending or s.edited for s in statuses):
        return []
    conn.commit()
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(hashtext(%s))", (LOCK_KEY,))
    try:
        with conn.cursor() as cur:
            cur.execute(META_DDL)
        conn.commit()
        statuses = read_status(conn, capabilities)  # another process may have migrated meanwhile
        check_status(statuses, accept_edited=accept_edited)
        applied: list[Migration] = []
        for status in statuses:
            if accept_edited and status.edited:
                _record_checksums(conn, status.edited)
            applied.extend(_apply_pending(conn, status))
        return applied
    finally:
        if conn.closed == 0:
            conn.rollback()
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(hashtext(%s))", (LOCK_KEY,))
            conn.commit()


def _apply_pending(conn: psycopg2.extensions.connection, status: CapabilityStatus) -> list[Migration]:
    pending = status.pending
    if not pending:
        return []
    name, baseline = status.capability.name, status.adopting
    if status.dropped:
        with conn.cursor() as cur:  # committed with the first migration, rolled back with it
            cur.execute("DELETE FROM meta.schema_versions WHERE capability = %s", (name,))
    applied = []
    for migration in pending:
        started = time.perf_counter()
        try:
            with conn.cursor() as cur:
                migration.apply(cur)
                cur.execute(
                    "INSERT INTO meta.schema_versions (capability, version, name, checksum, execution_ms, baseline)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    (
                        name,
                        migration.version,
                        migration.name,
                        migration.checksum,
                        round((time.perf_counter() - started) * 1000),
                        baseline,
                    ),
                )
            conn.commit()
        except psycopg2.Error as exc:
            conn.rollback()
            message = (exc.pgerror or str(exc)).strip()
            raise MigrationError(
                f"migration {migration.where} failed and was rolled back ({name} stays at version "
                f"{applied[-1].version if applied else status.version}): {message}. Fix the file and run "
                "`audience db upgrade`"
            ) from exc
        applied.append(migration)
    return applied


def _record_checksums(conn: psycopg2.extensions.connection, edited: Sequence[Migration]) -> None:
    with conn.cursor() as cur:
        for migration in edited:
            cur.execute(
                "UPDATE meta.schema_versions SET checksum = %s, name = %s WHERE capability = %s AND version = %s",
                (migration.checksum, migration.name, migration.capability, migration.version),
            )
    conn.commit()

"""Load landing files into the raw tables: COPY, then one set-based statement per file.

Each file is one transaction: COPY its lines into a temporary table, validate and land them
(``statements.compile_load_statement``), record it in ``raw.loaded_files``. A file whose
(source, content hash) is already in the ledger as loaded is skipped, and every raw table
dedups on its natural key, so loading anything twice adds nothing. Bad records go to
``raw.quarantine`` with file, line and reason; a run never stops on them. Records of erased
people (``privacy.suppressed_identifiers``) and do-not-track Segment messages are counted in
the ledger and not stored.

A file that fails as a whole — a corrupt or truncated gzip, an I/O error, anything else that
raises — is rolled back and recorded in the ledger as ``rejected`` with the reason; the other
files and sources load on, and the file is tried again at the next run (a corrected file has
new content and loads). If the fast load statement raises on a value PostgreSQL cannot parse
(a JSON number beyond numeric, SQLSTATE class 22/54), the same file is re-run once with every
line validated as jsonb first (``strict``), which never raises on content.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2.errors
import psycopg2.extensions

from audience_dagster.ingest.landing import (
    LineStream,
    file_identity,
    file_sha256,
    find_landing_files,
    open_landing,
)
from audience_dagster.ingest.ledger import (
    claim_file,
    describe_failure,
    quarantine_reasons,
    record_ledger,
    record_rejection,
    remember_unchanged,
    unchanged_files,
)
from audience_dagster.ingest.sources import Source
from audience_dagster.ingest.statements import compile_load_statement, compile_reader_quarantine
from audience_dagster.warehouse.connection import connect, connection

_LANDING_TABLE = """
CREATE TEMP TABLE landing_lines (
    line_no bigint GENERATED ALWAYS AS IDENTITY,
    body    text
) ON COMMIT DROP
"""


@dataclass(frozen=True)
class FileLoad:
    """What loading one file did."""

    path: str
    sha256: str
    skipped: bool  # already in the ledger
    lines: int = 0
    records: int = 0
    inserted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    suppressed: int = 0  # records of erased people: not stored, not quarantined
    do_not_track: int = 0  # Segment messages that asked not to be tracked: not stored
    already_quarantined: int = 0  # bad records quarantined before (the same text, another file)
    blank: int = 0  # lines that are not records: blank, a CSV header, a quoted field's continuation
    rejected: str | None = None  # why the whole file could not be loaded (recorded in the ledger)
    strict: bool = False  # loaded by the strict statement after the fast one raised
    seconds: float = 0.0

    @property
    def accounted(self) -> int:
        """Lines with a known outcome: ``lines`` when nothing was lost."""
        return (
            self.inserted
            + self.duplicates
            + self.quarantined
            + self.already_quarantined
            + self.suppressed
            + self.do_not_track
            + self.blank
        )


@dataclass
class SourceLoad:
    """What loading every new file of one source did."""

    source: str
    files: list[FileLoad] = field(default_factory=list)
    quarantine_reasons: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def total(self, attribute: str) -> int:
        return sum(getattr(f, attribute) for f in self.files)

    @property
    def files_loaded(self) -> int:
        return sum(not f.skipped for f in self.files)

    @property
    def files_skipped(self) -> int:
        return sum(f.skipped for f in self.files)

    @property
    def rejected(self) -> list[FileLoad]:
        return [f for f in self.files if f.rejected]


def load_file(
    conn: psycopg2.extensions.connection,
    source: Source,
    path: Path,
    *,
    future_tolerance: timedelta,
    display_path: str | None = None,
) -> FileLoad:
    """Load one JSON-lines file of ``source`` in one transaction (committed here). A file that
    fails as a whole is recorded as rejected (see the module docstring), not raised."""
    shown = display_path or str(path)
    return contained(
        conn, source.name, path, shown, lambda: _load_json_file(conn, source, path, shown, future_tolerance)
    )


def _load_json_file(
    conn: psycopg2.extensions.connection, source: Source, path: Path, shown: str, future_tolerance: timedelta
) -> FileLoad:
    started = time.perf_counter()
    identity = file_identity(path)
    sha = identity.sha256
    with conn.cursor() as cur:
        if not claim_file(cur, source.name, sha):
            remember_unchanged(cur, source.name, shown, identity)
            conn.commit()
            return FileLoad(path=shown, sha256=sha, skipped=True)
        suppression = suppression_active(cur)
        # Memoize would hash whole jsonb values per row to cache the LATERAL steps (+50%)
        cur.execute("SET LOCAL enable_memoize = off")
        cur.execute(_LANDING_TABLE)
        with open_landing(path) as handle:
            stream = LineStream(handle)
            cur.copy_expert("COPY landing_lines (body) FROM STDIN", stream)
        loaded_at = datetime.now(UTC)
        params = {
            "source": source.name,
            "file_path": shown,
            "file_sha256": sha,
            "loaded_at": loaded_at,
            "future_tolerance": future_tolerance,
            "skip_lines": sorted(stream.unreadable),
        }
        bad_quarantined, bad_again, bad_suppressed = _quarantine_unreadable(cur, params, stream.unreadable, suppression)
        counts, strict = run_load_statement(cur, source, params, suppression)
        records, valid, inserted, quarantined, again, suppressed, do_not_track = counts
        result = FileLoad(
            path=shown,
            sha256=sha,
            skipped=False,
            lines=stream.lines,
            records=records + len(stream.unreadable),
            inserted=inserted,
            duplicates=valid - inserted,
            quarantined=quarantined + bad_quarantined,
            already_quarantined=again + bad_again,
            suppressed=suppressed + bad_suppressed,
            do_not_track=do_not_track,
            blank=stream.lines - records - len(stream.unreadable),
            strict=strict,
        )
        record_ledger(cur, source.name, shown, identity, result, loaded_at)
    conn.commit()
    return replace(result, seconds=time.perf_counter() - started)


def run_load_statement(cur, source: Source, params: dict, suppression: bool) -> tuple[tuple, bool]:
    """Run the load statement; if it raises on a value PostgreSQL cannot parse (class 22 data
    exceptions, class 54 limits), roll back to before it and run the strict variant. Returns
    (the statement's row, whether the strict one ran)."""
    cur.execute("SAVEPOINT load_statement")
    try:
        cur.execute(compile_load_statement(source, suppression=suppression), params)
        return cur.fetchone(), False
    except psycopg2.Error as exc:
        if (exc.pgcode or "")[:2] not in ("22", "54"):
            raise
        cur.execute("ROLLBACK TO SAVEPOINT load_statement")
    cur.execute(compile_load_statement(source, suppression=suppression, strict=True), params)
    return cur.fetchone(), True


def contained(
    conn: psycopg2.extensions.connection, source: str, path: Path, shown: str, load: Callable[[], FileLoad]
) -> FileLoad:
    """``load()``, or — when it raises — the file recorded as rejected (rolled back, reason in the
    ledger). Only a failure to record the rejection itself (the warehouse is gone) raises."""
    started = time.perf_counter()
    try:
        return load()
    except Exception as exc:  # noqa: BLE001 - any failure of one file is that file's rejection
        conn.rollback()
        reason = describe_failure(exc)
        sha = _sha_or_path_key(path)
        with conn.cursor() as cur:
            record_rejection(cur, source, path, shown, sha, reason)
        conn.commit()
        return FileLoad(path=shown, sha256=sha, skipped=False, rejected=reason, seconds=time.perf_counter() - started)


def _sha_or_path_key(path: Path) -> str:
    """The file's content hash, or (unreadable) a key derived from its path."""
    try:
        return file_sha256(path)
    except OSError:
        return "unreadable:" + hashlib.sha256(str(path).encode()).hexdigest()


def suppression_active(cur) -> bool:
    """Hold erasures off for this file's transaction; True when anyone is suppressed.

    SHARE conflicts with the SHARE ROW EXCLUSIVE lock an erasure takes first: an erasure waits
    for the loads in flight (and then deletes what they stored), a load waits for an erasure
    (and then sees its suppressed identifiers). Loads do not block each other.
    """
    cur.execute("LOCK TABLE privacy.suppressed_identifiers IN SHARE MODE")
    cur.execute("SELECT EXISTS (SELECT 1 FROM privacy.suppressed_identifiers)")
    return bool(cur.fetchone()[0])


_UNREADABLE_ROWS = (
    "SELECT b.line_no, b.reason, l.body"
    " FROM unnest(%(bad_lines)s::bigint[], %(bad_reasons)s::text[]) AS b (line_no, reason)"
    " JOIN pg_temp.landing_lines AS l USING (line_no)"
)


def _quarantine_unreadable(cur, params: dict, unreadable: dict[int, str], suppression: bool) -> tuple[int, int, int]:
    """Quarantine the lines the reader flagged; (quarantined, already_quarantined, suppressed)."""
    if not unreadable:
        return 0, 0, 0
    lines = sorted(unreadable)
    cur.execute(
        compile_reader_quarantine(_UNREADABLE_ROWS, suppression=suppression),
        {**params, "bad_lines": lines, "bad_reasons": [unreadable[line] for line in lines]},
    )
    quarantined, again, suppressed = cur.fetchone()
    return quarantined, again, suppressed


FileLoader = Callable[[psycopg2.extensions.connection, Path, str], FileLoad]


def load_directory(
    url: str,
    source_name: str,
    directory: Path,
    file_format: str,
    load_one: FileLoader,
    *,
    workers: int = 2,
    progress: Callable[[FileLoad], None] | None = None,
) -> SourceLoad:
    """Load every file of ``directory`` with ``load_one``; files already loaded are skipped: by
    their (path, size, mtime) in the ledger without reading them, else by their content hash.

    Files load concurrently on ``workers`` connections (each file is its own transaction, so
    this is safe; PostgreSQL does the work and psycopg2 releases the GIL meanwhile).
    """
    started = time.perf_counter()
    report = SourceLoad(source=source_name)
    paths = find_landing_files(directory, file_format)
    with connection(url) as conn, conn.cursor() as cur:
        unchanged = unchanged_files(cur, source_name)
    local = threading.local()
    opened: list[psycopg2.extensions.connection] = []
    lock = threading.Lock()

    def run(path: Path) -> FileLoad:
        try:
            shown = str(path.relative_to(directory.parent))
        except ValueError:
            shown = str(path)
        if (sha := _unchanged(unchanged, path, shown)) is not None:  # no connection, no read
            return FileLoad(path=shown, sha256=sha, skipped=True)
        if getattr(local, "conn", None) is None or local.conn.closed:
            local.conn = connect(url)
            with lock:
                opened.append(local.conn)
        try:
            loaded = load_one(local.conn, path, shown)
        except psycopg2.Error as exc:  # the connection broke: record the rejection on a fresh one
            local.conn.close()
            local.conn = None
            failure = exc.__context__ or exc  # what broke the load, not the failed rollback after it

            def fail() -> FileLoad:
                raise failure

            with connection(url) as conn:
                loaded = contained(conn, source_name, path, shown, fail)
        if progress:
            with lock:
                progress(loaded)
        return loaded

    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            report.files = list(pool.map(run, paths))
        with connection(url) as conn:
            report.quarantine_reasons = quarantine_reasons(
                conn, (f.sha256 for f in report.files if not f.skipped and f.quarantined)
            )
    finally:
        for conn in opened:
            if not conn.closed:
                conn.close()
    report.seconds = time.perf_counter() - started
    return report


def _unchanged(unchanged: dict[tuple[str, int, int], str], path: Path, shown: str) -> str | None:
    """The content hash of the loaded file ``path`` still is, by its stat; None: read it."""
    try:
        stat = path.stat()
    except OSError:
        return None  # the load reports why it cannot be read
    return unchanged.get((shown, stat.st_size, stat.st_mtime_ns))


def load_source(
    url: str,
    source: Source,
    landing_dir: Path,
    *,
    future_tolerance: timedelta,
    workers: int = 2,
    progress: Callable[[FileLoad], None] | None = None,
) -> SourceLoad:
    """Load every new JSON-lines file under ``landing_dir/<source.landing_subdir>``."""

    def load_one(conn: psycopg2.extensions.connection, path: Path, shown: str) -> FileLoad:
        return load_file(conn, source, path, future_tolerance=future_tolerance, display_path=shown)

    return load_directory(
        url,
        source.name,
        landing_dir / source.landing_subdir,
        source.file_format,
        load_one,
        workers=workers,
        progress=progress,
    )

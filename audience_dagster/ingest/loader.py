"""Load landing files into the raw tables: COPY, then one set-based statement per file.

Each file is one transaction: COPY its lines into a temporary table, validate and land them
(``sources.compile_load_statement``), record it in ``raw.loaded_files``. A file whose content
hash is already in the ledger is skipped, and every raw table dedups on its natural key, so
loading anything twice adds nothing. Bad records go to ``raw.quarantine`` with file, line and
reason; a run never stops on them. Records of erased people (``privacy.suppressed_identifiers``)
and do-not-track Segment messages are counted in the ledger and not stored.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2.errors
import psycopg2.extensions

from audience_dagster.errors import IngestError
from audience_dagster.ingest.landing import (
    LineStream,
    file_sha256,
    find_landing_files,
    open_landing,
)
from audience_dagster.ingest.sources import Source, compile_load_statement, compile_reader_quarantine
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
    seconds: float = 0.0


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


def load_file(
    conn: psycopg2.extensions.connection,
    source: Source,
    path: Path,
    *,
    future_tolerance: timedelta,
    display_path: str | None = None,
) -> FileLoad:
    """Load one JSON-lines file of ``source`` in one transaction (committed here)."""
    started = time.perf_counter()
    sha = file_sha256(path)
    shown = display_path or str(path)
    with conn.cursor() as cur:
        if not claim_file(cur, sha):
            conn.rollback()
            return FileLoad(path=shown, sha256=sha, skipped=True)
        suppression = suppression_active(cur)
        # Memoize would hash whole jsonb values per row to cache the LATERAL steps (+50%)
        cur.execute("SET LOCAL enable_memoize = off")
        cur.execute(_LANDING_TABLE)
        try:
            with open_landing(path) as handle:
                stream = LineStream(handle)
                cur.copy_expert("COPY landing_lines (body) FROM STDIN", stream)
        # unreadable, or a corrupt/truncated .gz (psycopg2 reports errors raised by the stream's
        # read() during COPY as QueryCanceled)
        except (OSError, EOFError, psycopg2.errors.QueryCanceled) as exc:
            conn.rollback()
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise IngestError(
                f"cannot read landing file {shown}: {detail}; nothing of it was "
                "loaded — replace the file and re-run (it is not in the ledger)"
            ) from exc
        loaded_at = datetime.now(UTC)
        params = {
            "source": source.name,
            "file_path": shown,
            "file_sha256": sha,
            "loaded_at": loaded_at,
            "future_tolerance": future_tolerance,
            "skip_lines": sorted(stream.unreadable),
        }
        bad_quarantined, bad_suppressed = _quarantine_unreadable(cur, params, stream.unreadable, suppression)
        cur.execute(compile_load_statement(source, suppression=suppression), params)
        records, valid, inserted, quarantined, suppressed, do_not_track = cur.fetchone()
        result = FileLoad(
            path=shown,
            sha256=sha,
            skipped=False,
            lines=stream.lines,
            records=records + len(stream.unreadable),
            inserted=inserted,
            duplicates=valid - inserted,
            quarantined=quarantined + bad_quarantined,
            suppressed=suppressed + bad_suppressed,
            do_not_track=do_not_track,
        )
        record_ledger(cur, source.name, path, shown, sha, result, loaded_at)
    conn.commit()
    return replace(result, seconds=time.perf_counter() - started)


def claim_file(cur, sha: str) -> bool:
    """Lock this file's content hash for the transaction; False if it was already loaded.

    Lock first, then look in the ledger: two loaders racing on the same file serialise, and
    the second one finds the ledger entry the first committed.
    """
    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (sha,))
    cur.execute("SELECT 1 FROM raw.loaded_files WHERE file_sha256 = %s", (sha,))
    return cur.fetchone() is None


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


def _quarantine_unreadable(cur, params: dict, unreadable: dict[int, str], suppression: bool) -> tuple[int, int]:
    """Quarantine the lines the reader flagged; (quarantined, suppressed)."""
    if not unreadable:
        return 0, 0
    lines = sorted(unreadable)
    cur.execute(
        compile_reader_quarantine(_UNREADABLE_ROWS, suppression=suppression),
        {**params, "bad_lines": lines, "bad_reasons": [unreadable[line] for line in lines]},
    )
    quarantined, suppressed = cur.fetchone()
    return quarantined, suppressed


def record_ledger(cur, source: str, path: Path, shown: str, sha: str, result: FileLoad, loaded_at: datetime) -> None:
    """Remember a loaded file by content hash so the same bytes are never loaded twice."""
    cur.execute(
        "INSERT INTO raw.loaded_files (file_sha256, source, file_path, file_bytes, lines,"
        " inserted, duplicates, quarantined, suppressed, do_not_track, loaded_at)"
        " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
        " ON CONFLICT (file_sha256) DO NOTHING",
        (
            sha,
            source,
            shown,
            path.stat().st_size,
            result.lines,
            result.inserted,
            result.duplicates,
            result.quarantined,
            result.suppressed,
            result.do_not_track,
            loaded_at,
        ),
    )


def quarantine_reasons(conn: psycopg2.extensions.connection, shas: Iterable[str]) -> Counter[str]:
    """How many records each quarantine reason took, over the given files."""
    shas = list(shas)
    if not shas:
        return Counter()
    with conn.cursor() as cur:
        cur.execute(
            "SELECT regexp_replace(reason, ': .*$', ''), count(*) FROM raw.quarantine"
            " WHERE file_sha256 = ANY(%s) GROUP BY 1",
            (shas,),
        )
        return Counter(dict(cur.fetchall()))


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
    """Load every file of ``directory`` with ``load_one``; files already loaded are skipped.

    Files load concurrently on ``workers`` connections (each file is its own transaction, so
    this is safe; PostgreSQL does the work and psycopg2 releases the GIL meanwhile).
    """
    started = time.perf_counter()
    report = SourceLoad(source=source_name)
    paths = find_landing_files(directory, file_format)
    local = threading.local()
    opened: list[psycopg2.extensions.connection] = []
    lock = threading.Lock()

    def run(path: Path) -> FileLoad:
        if not hasattr(local, "conn"):
            local.conn = connect(url)
            with lock:
                opened.append(local.conn)
        try:
            shown = str(path.relative_to(directory.parent))
        except ValueError:
            shown = str(path)
        loaded = load_one(local.conn, path, shown)
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
            conn.close()
    report.seconds = time.perf_counter() - started
    return report


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

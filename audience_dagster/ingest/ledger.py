"""The ingest ledger, ``raw.loaded_files``: every landing file by (source, content hash), with
what loading it did, or — for a file that could not be loaded at all — why it was rejected.

Pure SQL over a cursor the loader's transaction owns (no commits here).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg2.errors
import psycopg2.extensions

if TYPE_CHECKING:
    from audience_dagster.ingest.landing import FileIdentity
    from audience_dagster.ingest.loader import FileLoad


# A version changes with a new loaded file or a newly rejected one, not with the retry of a file
# already rejected (that only bumps its attempts): a rejected file left in the folder does not
# rebuild everything downstream on every pass.
_LEDGER_VERSION = (
    "count(*) FILTER (WHERE status = 'loaded') || ':'"
    " || coalesce(max(loaded_at) FILTER (WHERE status = 'loaded')::text, '')"
    " || ':' || count(*) FILTER (WHERE status = 'rejected')"
)
# Each raw table's version (the ingest assets' data versions, and part of the refresh stamp).
LEDGER_VERSIONS_SQL = f"""
SELECT source, {_LEDGER_VERSION} FROM raw.loaded_files GROUP BY source
UNION ALL
SELECT 'raw.loaded_files', {_LEDGER_VERSION} FROM raw.loaded_files
UNION ALL
SELECT 'raw.quarantine', count(*) || ':' || coalesce(max(quarantine_id)::text, '') FROM raw.quarantine
"""


def claim_file(cur, source: str, sha: str) -> bool:
    """Lock this file's (source, content hash) for the transaction; False if it was loaded.

    Lock first, then look in the ledger: two loaders racing on the same file serialise, and
    the second one finds the ledger entry the first committed. A rejected file is tried again.
    """
    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{source}:{sha}",))
    cur.execute(
        "SELECT 1 FROM raw.loaded_files WHERE source = %s AND file_sha256 = %s AND status = 'loaded'", (source, sha)
    )
    return cur.fetchone() is None


def unchanged_files(cur, source: str) -> dict[tuple[str, int, int], str]:
    """The source's loaded files by (path as shown, size, mtime in ns) → content hash: a landing
    file with the same three is the one loaded (as make, rsync and git's index assume), skipped
    without reading it. One query per source, not one per file."""
    cur.execute(
        "SELECT file_path, file_bytes, file_mtime_ns, file_sha256 FROM raw.loaded_files"
        " WHERE source = %s AND status = 'loaded' AND file_mtime_ns IS NOT NULL",
        (source,),
    )
    return {(path, size, mtime): sha for path, size, mtime, sha in cur.fetchall()}


def remember_unchanged(cur, source: str, shown: str, identity: FileIdentity) -> None:
    """A file found loaded by its content hash: note its modification time on its ledger row
    (same path and size), so the next pass skips it by stat alone (rows from before 004)."""
    cur.execute(
        "UPDATE raw.loaded_files SET file_mtime_ns = %s WHERE source = %s AND file_sha256 = %s"
        " AND file_path = %s AND file_bytes = %s AND file_mtime_ns IS DISTINCT FROM %s",
        (identity.mtime_ns, source, identity.sha256, shown, identity.size, identity.mtime_ns),
    )


_LEDGER_COLUMNS = (
    "source, file_sha256, file_path, file_bytes, lines, inserted, duplicates, quarantined, already_quarantined,"
    " suppressed, do_not_track, blank_lines, loaded_at, file_mtime_ns, status, reason"
)


def record_ledger(cur, source: str, shown: str, identity: FileIdentity, result: FileLoad, loaded_at: datetime) -> None:
    """Remember a loaded file by (source, content hash) so the same bytes are never loaded twice
    (a row of an earlier rejection of the same bytes becomes this load), with the size and
    modification time it had before it was read."""
    cur.execute(
        f"INSERT INTO raw.loaded_files ({_LEDGER_COLUMNS})"
        " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,'loaded',NULL)"
        " ON CONFLICT (source, file_sha256) DO UPDATE SET"
        " file_path = EXCLUDED.file_path, file_bytes = EXCLUDED.file_bytes, lines = EXCLUDED.lines,"
        " inserted = EXCLUDED.inserted, duplicates = EXCLUDED.duplicates, quarantined = EXCLUDED.quarantined,"
        " already_quarantined = EXCLUDED.already_quarantined, suppressed = EXCLUDED.suppressed,"
        " do_not_track = EXCLUDED.do_not_track, blank_lines = EXCLUDED.blank_lines,"
        " loaded_at = EXCLUDED.loaded_at, file_mtime_ns = EXCLUDED.file_mtime_ns, status = 'loaded', reason = NULL,"
        " attempts = raw.loaded_files.attempts + 1",
        (
            source,
            identity.sha256,
            shown,
            identity.size,
            result.lines,
            result.inserted,
            result.duplicates,
            result.quarantined,
            result.already_quarantined,
            result.suppressed,
            result.do_not_track,
            result.blank,
            loaded_at,
            identity.mtime_ns,
        ),
    )


def record_rejection(cur, source: str, path: Path, shown: str, sha: str, reason: str) -> None:
    """Record a file that could not be loaded (``status = 'rejected'``, the reason, attempts)."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    cur.execute(
        f"INSERT INTO raw.loaded_files ({_LEDGER_COLUMNS})"
        " VALUES (%s,%s,%s,%s,0,0,0,0,0,0,0,0,now(),NULL,'rejected',%s)"
        " ON CONFLICT (source, file_sha256) DO UPDATE SET file_path = EXCLUDED.file_path, reason = EXCLUDED.reason,"
        " loaded_at = EXCLUDED.loaded_at, attempts = raw.loaded_files.attempts + 1"
        " WHERE raw.loaded_files.status = 'rejected'",
        (source, sha, shown, size, reason),
    )


def describe_failure(exc: BaseException) -> str:
    """One line saying what went wrong reading/loading a file and what to do."""
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
    if isinstance(exc, psycopg2.errors.QueryCanceled | OSError | EOFError):
        # psycopg2 reports errors raised by the stream's read() during COPY as QueryCanceled
        what = "cannot read the file"
    else:
        what = f"the load failed ({type(exc).__name__})"
    return f"{what}: {detail}; nothing of it was loaded — replace the file with a readable one and re-run"


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

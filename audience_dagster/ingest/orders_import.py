"""``audience import-orders``: one order CSV per call, with a one-line verdict and an exit code.

0 imported (or already imported), 1 the file was read but rejected whole (e.g. no date or amount
column) or every row was rejected (quarantined),
2 the file could not be read at all (missing, a folder, unreadable, not text) — nothing of it
was loaded then, and the line says what to do.
"""

from __future__ import annotations

import csv
from pathlib import Path

import psycopg2
import psycopg2.extensions

from audience_dagster.errors import IngestError
from audience_dagster.ingest.historical_orders import load_orders_csv
from audience_dagster.ingest.landing import open_landing
from audience_dagster.ingest.loader import quarantine_reasons

SNIFF_BYTES = 64 << 10


def unreadable_reason(path: Path) -> str | None:
    """Why ``path`` cannot be an orders CSV (missing, a folder, unreadable, binary), or None."""
    if not path.exists():
        return "no such file; check the path"
    if path.is_dir():
        return f"is a folder; give the CSV files in it (e.g. {path}/*.csv)"
    try:
        with open_landing(path) as handle:
            head = handle.read(SNIFF_BYTES)
    except PermissionError:
        return "cannot be read (permission denied); check the file's permissions"
    except (OSError, EOFError) as exc:
        return f"cannot be read ({exc}); replace the file"
    if b"\x00" in head:
        return "is not a text file (binary content: a spreadsheet? export it as CSV, UTF-8)"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the sample
            return f"is not UTF-8 text (byte {exc.start}); export it as CSV in UTF-8"
    return None


def import_orders_file(conn: psycopg2.extensions.connection, path: Path) -> tuple[int, str]:
    """Import one file; (exit code, the line to print)."""
    reason = unreadable_reason(path)
    if reason:
        return 2, f"{path}: {reason}"
    try:
        load = load_orders_csv(conn, path)
    except (IngestError, csv.Error, UnicodeError, psycopg2.DataError) as exc:
        conn.rollback()
        return 2, f"{path}: cannot be imported ({str(exc).strip().splitlines()[0]}); nothing of it was loaded"
    if load.skipped:
        return 0, f"{path}: already imported (same content), nothing added"
    if load.rejected:
        return 1, f"{path}: REJECTED, nothing imported: {load.rejected}"
    counts = f"{load.inserted} orders imported, {load.duplicates} duplicates, {load.quarantined} quarantined"
    if load.inserted == 0 and load.duplicates == 0 and load.quarantined > 0:
        reasons = quarantine_reasons(conn, [load.sha256]).most_common(3)
        why = "; ".join(f"{r} ({n})" for r, n in reasons)
        return 1, (
            f"{path}: every row was rejected ({load.quarantined} quarantined: {why}); check the header names"
            " and the date and amount formats (see raw.quarantine for each row)"
        )
    return 0, f"{path}: {counts}" + (" (see raw.quarantine)" if load.quarantined else "")

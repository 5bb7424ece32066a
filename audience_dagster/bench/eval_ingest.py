"""``audience eval ingest``: did ingestion quarantine exactly the records the generator broke?"""

from __future__ import annotations

import csv
from pathlib import Path

from audience_dagster.config import load_settings
from audience_dagster.warehouse.connection import connection, resolve_warehouse


def evaluate_quarantine(sample: Path | None = None) -> dict[str, object]:
    """Compare ``raw.quarantine`` with ``truth/malformed.csv`` by (file, line)."""
    settings = load_settings()
    sample = sample or settings.sample_dir
    truth_file = sample / "truth" / "malformed.csv"
    with truth_file.open(newline="") as handle:
        expected = {(row["file"], int(row["line"])) for row in csv.DictReader(handle)}
    url = resolve_warehouse(settings).url
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT file_path, line_no FROM raw.quarantine")
        quarantined = {(path, int(line)) for path, line in cur.fetchall()}
    matched = expected & quarantined
    return {
        "expected": len(expected),
        "quarantined": len(quarantined),
        "matched": len(matched),
        "missed": len(expected - quarantined),
        "unexpected": len(quarantined - expected),
    }

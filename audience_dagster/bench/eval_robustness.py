"""``audience eval robustness``: the hostile corpus beside a small sample, the whole refresh, twice.

In a scratch database (``audience_robustness`` on the embedded server, recreated each run, or
``AUDIENCE_BENCH_DATABASE_URL``) and a scratch folder: generate a small sample, write the
hostile corpus and its unreadable files (:mod:`audience_dagster.sample_data.hostile`) into the
same landing folder, run ``audience refresh`` (the ``audience_refresh`` job: every asset) twice
as a child process pointed at them, then account for every line:

* ``records`` — record lines of every file that loaded (not blank lines, CSV headers or the
  continuation lines of a quoted multi-line CSV field);
* ``landed`` / ``quarantined`` / ``duplicates`` / ``not_stored`` — where they went, from the
  raw tables, ``raw.quarantine`` and the ledger;
* ``lost`` — lines of loaded files that are none of those (must be 0);
* ``wrong`` — corpus lines whose outcome differs from the truth (a valid record quarantined, a
  bad one landed, a reason that does not name the problem);
* ``rejected_files`` — files the ledger rejected (the corpus's three unreadable ones, and
  ``unexpected_rejections`` if any other); ``crashed_files`` — landing files with no ledger row
  at all after the run;
* ``refresh_ok`` — both refreshes exited 0 (every asset materialised, every error-severity dbt
  test passed) and the second one loaded nothing new and quarantined nothing again.

Prints figures; the CLI exits non-zero when anything is lost, wrong or crashed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg2.extensions

from audience_dagster.bench.database import BENCH_DB, bench_database_url, drop_bench_database
from audience_dagster.config import load_settings, process_environment
from audience_dagster.ingest.landing import file_sha256, find_landing_files
from audience_dagster.ingest.sources import JSON_SOURCES
from audience_dagster.sample_data.hostile import Expected, read_truth, write_hostile_corpus
from audience_dagster.warehouse.connection import connection

SCRATCH_DB = "audience_robustness"
TABLES = {**{s.name: s.table for s in JSON_SOURCES}, "historical_orders": "raw.historical_orders"}
FORMATS = {**{s.name: s.file_format for s in JSON_SOURCES}, "historical_orders": "csv"}


def prepare_scratch(people: int, seed: int) -> Path:
    """A fresh folder with a generated sample and the hostile corpus in one landing folder."""
    from audience_dagster.sample_data import generate

    out = load_settings().home / "robustness" / f"people{people}_seed{seed}"
    shutil.rmtree(out, ignore_errors=True)
    generate(people, seed, out)
    write_hostile_corpus(out, seed)
    return out


def run_refresh(url: str, out: Path) -> tuple[bool, float]:
    """``audience refresh`` as a child process on the scratch database and landing folder."""
    env = process_environment(
        {
            "DATABASE_URL": url,
            "AUDIENCE_LANDING_DIR": str(out / "landing"),
            "AUDIENCE_MODELS_DIR": str(out / "models"),
        }
    )
    env.pop("AUDIENCE_DATABASE_URL", None)
    env.pop("AUDIENCE_DAGSTER_DATABASE_URL", None)
    started = time.perf_counter()
    command = [sys.executable, "-m", "audience_dagster.cli", "refresh"]
    done = subprocess.run(command, env=env, stdout=sys.stderr, check=False)  # stdout: the closing line only
    return done.returncode == 0, time.perf_counter() - started


def line_outcomes(conn: psycopg2.extensions.connection, source: str, sha: str) -> dict[int, tuple[str, str | None]]:
    """line number → ('landed', None) or ('quarantined', reason), for one loaded file."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT line_no FROM {TABLES[source]} WHERE file_sha256 = %s", (sha,))
        outcomes: dict[int, tuple[str, str | None]] = {line: ("landed", None) for (line,) in cur.fetchall()}
        cur.execute("SELECT line_no, reason FROM raw.quarantine WHERE file_sha256 = %s", (sha,))
        outcomes.update({line: ("quarantined", reason) for line, reason in cur.fetchall()})
    return outcomes


def wrong_outcomes(expected: list[Expected], outcomes: dict[str, dict[int, tuple[str, str | None]]]) -> list[str]:
    """Corpus lines whose outcome is not the truth's, described (empty when all are right)."""
    wrong = []
    for record in expected:
        got, reason = outcomes.get(record.file, {}).get(record.line, ("other", None))
        want = record.expect if record.expect in ("landed", "quarantined") else "other"
        if got != want or (want == "quarantined" and record.reason and record.reason not in (reason or "")):
            wrong.append(
                f"{record.file}:{record.line} {record.kind}: expected {record.expect}, got {got} {reason or ''}"
            )
    return wrong


def account(conn: psycopg2.extensions.connection, landing: Path) -> dict[str, object]:
    """Every line of every landing file, against the ledger and the tables (see the module doc)."""
    totals: Counter[str] = Counter()
    outcomes: dict[str, dict[int, tuple[str, str | None]]] = {}
    with conn.cursor() as cur:
        cur.execute(
            "SELECT source, file_sha256, status, lines, inserted, duplicates, quarantined, already_quarantined,"
            " suppressed, do_not_track, blank_lines FROM raw.loaded_files"
        )
        ledger = {(row[0], row[1]): row[2:] for row in cur.fetchall()}
    for source, file_format in FORMATS.items():
        for path in find_landing_files(landing / source, file_format):
            shown = str(path.relative_to(landing))
            entry = ledger.get((source, file_sha256(path)))
            if entry is None:
                totals["crashed_files"] += 1
                continue
            status, lines, inserted, duplicates, quarantined, again, suppressed, do_not_track, blank = entry
            if status == "rejected":
                totals["rejected_files"] += 1
                continue
            per_line = line_outcomes(conn, source, file_sha256(path))
            outcomes[shown] = per_line
            landed = sum(1 for kind, _ in per_line.values() if kind == "landed")
            stored_quarantine = len(per_line) - landed
            not_stored = duplicates + again + suppressed + do_not_track
            totals.update(
                records=lines - blank,
                landed=landed,
                quarantined=stored_quarantine,
                duplicates=duplicates,
                not_stored=again + suppressed + do_not_track,
                lost=lines - blank - landed - stored_quarantine - not_stored,
                ledger_mismatch=int(landed != inserted or stored_quarantine != quarantined),
            )
    totals["outcomes"] = outcomes  # type: ignore[assignment]
    return dict(totals)


def evaluate_robustness(people: int = 300, seed: int = 11, keep: bool = False) -> dict[str, object]:
    """Run the evaluation (see the module docstring); figures for the closing line."""
    out = prepare_scratch(people, seed)
    url = bench_database_url(SCRATCH_DB)
    first_ok, first_seconds = run_refresh(url, out)
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM raw.quarantine")
        quarantined_after_first = cur.fetchone()[0]
    second_ok, second_seconds = run_refresh(url, out)
    expected, rejected_expected = read_truth(out / "truth")
    with connection(url) as conn:
        totals = account(conn, out / "landing")
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM raw.quarantine")
            quarantined_after_second = cur.fetchone()[0]
            cur.execute("SELECT file_path FROM raw.loaded_files WHERE status = 'rejected'")
            rejected = {path for (path,) in cur.fetchall()}
    wrong = wrong_outcomes(expected, totals.pop("outcomes"))
    for line in wrong[:20]:
        print(f"[robustness] WRONG {line}", file=sys.stderr)
    drop_bench_database(url, SCRATCH_DB, keep)
    idempotent = quarantined_after_second == quarantined_after_first
    return {
        "records": totals.get("records", 0),
        "landed": totals.get("landed", 0),
        "quarantined": totals.get("quarantined", 0),
        "duplicates": totals.get("duplicates", 0),
        "not_stored": totals.get("not_stored", 0),
        "corpus_records": len(expected),
        "wrong": len(wrong),
        "rejected_files": len(rejected),
        "unexpected_rejections": len(rejected - {path for path, _ in rejected_expected}),
        "first_refresh_seconds": first_seconds,
        "second_refresh_seconds": second_seconds,
        "idempotent": int(idempotent),
        "lost": totals.get("lost", 0) + totals.get("ledger_mismatch", 0),
        "crashed_files": totals.get("crashed_files", 0),
        "refresh_ok": int(first_ok and second_ok and idempotent),
    }


__all__ = ["BENCH_DB", "evaluate_robustness"]

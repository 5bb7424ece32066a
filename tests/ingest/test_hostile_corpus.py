"""The hostile corpus through every loader on the real PostgreSQL: each line lands or is
quarantined as the truth says, the unreadable files are rejected and nothing else is."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest

from audience_dagster.bench.eval_robustness import account, wrong_outcomes
from audience_dagster.ingest.historical_orders import load_orders_csv
from audience_dagster.ingest.loader import SourceLoad, load_directory, load_source
from audience_dagster.ingest.sources import JSON_SOURCES
from audience_dagster.sample_data.hostile import read_truth, write_hostile_corpus
from audience_dagster.sample_data.hostile_records import KINDS
from audience_dagster.warehouse.connection import connection

pytestmark = pytest.mark.integration
DAY = timedelta(days=1)


def load_everything(url: str, landing: Path) -> list[SourceLoad]:
    reports = [load_source(url, source, landing, future_tolerance=DAY, workers=2) for source in JSON_SOURCES]
    orders = partial(load_orders_csv, future_tolerance=DAY)
    reports.append(load_directory(url, "historical_orders", landing / "historical_orders", "csv", orders))
    return reports


def test_the_corpus_is_large_deterministic_and_covers_every_kind(tmp_path: Path) -> None:
    first = write_hostile_corpus(tmp_path / "a", seed=3)
    second = write_hostile_corpus(tmp_path / "b", seed=3)
    assert len(first.records) >= 1_000
    assert {(r.source, r.kind) for r in first.records} == {(s, k) for s, kinds in KINDS.items() for k in kinds}
    for path in (tmp_path / "a" / "landing").rglob("*.*"):
        assert (
            path.read_bytes()
            == (tmp_path / "b" / "landing" / path.relative_to(tmp_path / "a" / "landing")).read_bytes()
        )
    assert first.records == second.records
    assert Counter(r.expect for r in first.records).keys() == {
        "landed",
        "quarantined",
        "duplicate",
        "blank",
        "not_stored",
    }


def test_every_corpus_line_gets_the_outcome_the_truth_says(empty_raw: str, tmp_path: Path) -> None:
    write_hostile_corpus(tmp_path, seed=7)
    expected, rejected_expected = read_truth(tmp_path / "truth")
    reports = load_everything(empty_raw, tmp_path / "landing")

    rejected = sorted(f.path for r in reports for f in r.rejected)
    assert rejected == sorted(path for path, _ in rejected_expected)
    with connection(empty_raw) as conn:
        totals = account(conn, tmp_path / "landing")
    assert wrong_outcomes(expected, totals.pop("outcomes")) == []
    assert totals["lost"] == 0 and totals.get("crashed_files", 0) == 0 and totals["ledger_mismatch"] == 0
    assert all(f.accounted == f.lines for r in reports for f in r.files if not f.rejected)
    counts = Counter(r.expect for r in expected)
    assert totals["landed"] == counts["landed"]
    assert totals["quarantined"] == counts["quarantined"]
    assert totals["duplicates"] == counts["duplicate"]

    # a second run: nothing new, nothing quarantined again, the three files rejected again
    again = load_everything(empty_raw, tmp_path / "landing")
    assert sum(r.total("inserted") + r.total("quarantined") for r in again) == 0
    assert sorted(f.path for r in again for f in r.rejected) == rejected

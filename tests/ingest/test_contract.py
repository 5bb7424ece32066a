"""The ingest ↔ staging contract (audience_dagster/ingest/contract.py, docs/ingestion.md).

Every error-severity dbt test on a model that reads the raw tables has a guarantee, read from
the dbt manifest (a new test without one fails here); every ``quarantine`` guarantee's example
record is quarantined by ingestion with the named reason, and every ``dedup`` example is
deduplicated — so nothing ingestion accepts can fail those tests.
"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest

from audience_dagster.ingest.contract import CONSTRAINT_ENFORCED, CONTRACT, Guarantee, dbt_test_key
from audience_dagster.ingest.historical_orders import load_orders_csv
from audience_dagster.ingest.loader import load_directory, load_source
from audience_dagster.ingest.sources import JSON_SOURCES
from audience_dagster.sample_data.hostile_records import CSV_HEADER
from audience_dagster.warehouse.connection import connection

DAY = timedelta(days=1)
SOURCES = {s.name: s for s in JSON_SOURCES}


@pytest.fixture(scope="module")
def error_tests() -> dict[str, dict]:
    """Error-severity tests of every model that reads a raw table, by :func:`dbt_test_key`."""
    from audience_dagster.transform.project import dbt_project

    bin_dir = str(Path(sys.executable).parent)  # the project's dbt, as export_env() arranges
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
    dbt_project.preparer.prepare(dbt_project)  # a fresh manifest (dbt parse)
    manifest = json.loads(Path(dbt_project.manifest_path).read_text())
    raw_readers = {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
        and any(dep.startswith("source.audience.raw.") for dep in node["depends_on"]["nodes"])
    }
    tests = {}
    for node in manifest["nodes"].values():
        attached = node.get("attached_node") or ""
        severity = node["config"].get("severity", "ERROR").upper()
        if node["resource_type"] == "test" and attached in raw_readers and severity == "ERROR":
            tests[dbt_test_key(node)] = node
    return tests


@pytest.mark.integration  # runs `dbt parse` (a fresh manifest): tens of seconds of CPU
def test_every_error_test_on_a_raw_reading_model_has_exactly_one_guarantee(error_tests: dict[str, dict]) -> None:
    keys = [g.test for g in CONTRACT]
    assert len(keys) == len(set(keys)), "a test is guaranteed twice"
    assert sorted(set(error_tests) - set(keys)) == [], "error-severity tests without a guarantee in contract.py"
    gone = set(keys) - set(error_tests) - CONSTRAINT_ENFORCED
    assert sorted(gone) == [], "guarantees for tests that no longer exist"
    assert set(keys) >= CONSTRAINT_ENFORCED, "a constraint-enforced entry without its guarantee"
    assert not CONSTRAINT_ENFORCED & set(error_tests), "listed as enforced by a constraint, yet still a dbt test"
    assert len(error_tests) > 30


def test_guarantees_are_complete() -> None:
    for g in CONTRACT:
        assert g.by in ("quarantine", "dedup", "raw", "staging", "ledger"), g
        if g.by in ("quarantine", "dedup"):
            assert g.source and g.example, g
        if g.by == "quarantine":
            assert g.reason, g


def write_examples(root: Path, source: str, name: str, lines: list[str]) -> None:
    folder = root / source
    folder.mkdir(parents=True, exist_ok=True)
    header = [CSV_HEADER.decode()] if source == "historical_orders" else []
    (folder / name).write_text("\n".join([*header, *lines]) + "\n")


def load(url: str, root: Path, source: str):
    if source == "historical_orders":
        return load_directory(url, source, root / source, "csv", partial(load_orders_csv, future_tolerance=DAY))
    return load_source(url, SOURCES[source], root, future_tolerance=DAY, workers=1)


@pytest.mark.integration
def test_every_quarantine_guarantee_quarantines_a_record_that_would_violate_its_test(
    empty_raw: str, tmp_path: Path
) -> None:
    by_source: dict[str, list[Guarantee]] = defaultdict(list)
    for g in CONTRACT:
        if g.by == "quarantine":
            by_source[g.source].append(g)
    for source, guarantees in by_source.items():  # one file, one load per source
        write_examples(
            tmp_path,
            source,
            "contract.jsonl" if source != "historical_orders" else "contract.csv",
            [g.example for g in guarantees],
        )
        report = load(empty_raw, tmp_path, source)
        assert report.total("inserted") == 0, source
    with connection(empty_raw) as conn, conn.cursor() as cur:
        cur.execute("SELECT source, line_no, reason FROM raw.quarantine")
        reasons = {(source, line): reason for source, line, reason in cur.fetchall()}
    for source, guarantees in by_source.items():
        first = 2 if source == "historical_orders" else 1
        for offset, g in enumerate(guarantees):
            reason = reasons.get((source, first + offset))
            assert reason is not None and g.reason in reason, (g.test, reason)


@pytest.mark.integration
def test_every_dedup_guarantee_keeps_one_row_per_key(empty_raw: str, tmp_path: Path) -> None:
    for i, g in enumerate(g for g in CONTRACT if g.by == "dedup"):
        name = f"dedup-{i}.{'csv' if g.source == 'historical_orders' else 'jsonl'}"
        write_examples(tmp_path, g.source, name, [g.example, g.example])
    for source in {g.source for g in CONTRACT if g.by == "dedup"}:
        report = load(empty_raw, tmp_path, source)
        assert report.total("quarantined") == 0, source
        for f in report.files:
            assert f.duplicates >= 1 and f.inserted + f.duplicates == 2, (source, f)


def test_docs_hold_the_contract_as_it_is() -> None:
    from audience_dagster.config import PROJECT_ROOT
    from audience_dagster.ingest.contract import render_contract

    text = (PROJECT_ROOT / "docs" / "ingestion.md").read_text()
    table = text.split("<!-- contract:start -->\n", 1)[1].split("<!-- contract:end -->", 1)[0]
    assert table == render_contract(), "regenerate the table in docs/ingestion.md from render_contract()"

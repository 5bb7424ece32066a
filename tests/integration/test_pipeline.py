"""The whole spine through Dagster: generated files → raw tables → … → segments, twice.

Real parts only: the embedded PostgreSQL, Dagster's instance storage in that PostgreSQL,
`dbt build` (models, data tests, unit tests) through dagster-dbt. The first run is pinned to the
sample's end (one clock for every step); the second finds nothing new and does nothing.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from audience_dagster.clock import clock_run_config
from audience_dagster.runs.commands import sample_end
from audience_dagster.runtime import prepare_runtime
from audience_dagster.warehouse.connection import connection

pytestmark = pytest.mark.integration


def count(url: str, table: str) -> int:
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        return int(cur.fetchone()[0])


def test_generated_sample_materialises_end_to_end_and_reruns_idempotently(empty_raw: str, empty_landing: Path) -> None:
    from audience_dagster.sample_data import generate

    home = Path(os.environ["AUDIENCE_HOME"])
    report = generate(1_500, 11, home, malformed_rate=0.002)
    assert Path(os.environ["AUDIENCE_LANDING_DIR"]) == home / "landing"
    prepare_runtime()

    from audience_dagster.definitions import defs

    job = defs.resolve_job_def("audience_refresh")
    as_of = sample_end(home)
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        first = job.execute_in_process(instance=instance, raise_on_error=False, run_config=clock_run_config(as_of))
        assert first.success
        checks = [e for e in first.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
        assert len(checks) > 50  # dbt data tests + the quarantine checks
        failed = [
            e.event_specific_data.check_name
            for e in checks
            if not e.event_specific_data.passed
            and e.event_specific_data.severity == dg.AssetCheckSeverity.ERROR
            # a prediction model may fail its quality gates on 1,500 people: its baseline then serves
            and not e.event_specific_data.check_name.endswith(("_beats_baseline", "_calibrated"))
        ]
        assert failed == []
        materialized = {e.asset_key.to_user_string() for e in first.get_asset_materialization_events()}
        assert {
            "raw/segment_messages",
            "raw/shopify_orders",
            "staging/stg_segment__tracks",
            "staging/stg_shopify__order_line_items",
            "predictions/prediction_models",
            "predictions/profile_predictions",
            "scoring/profile_scores",
            "raw/quarantine",
            "raw/loaded_files",
        } <= materialized
        # one clock: every time-dependent step reports the run's as_of
        clocks = {
            e.asset_key.to_user_string(): e.event_specific_data.materialization.metadata["as_of"].value
            for e in first.get_asset_materialization_events()
            if "as_of" in e.event_specific_data.materialization.metadata
        }
        assert {"scoring/engagement_score", "predictions/profile_predictions", "segments/segment_membership"} <= set(
            clocks
        )
        assert set(clocks.values()) == {as_of.isoformat()}

    # predictions for every profile, in the profile view too; the models and their cards on disk
    with connection(empty_raw) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(churn_risk), count(predicted_ltv), count(next_purchase_probability),"
            " count(*) FILTER (WHERE total_orders > 0) FROM marts.audience_profiles"
        )
        profiles, churn, ltv, next_purchase, customers = cur.fetchone()
    # churn is predicted for customers only; next purchase (a prospect's conversion) and LTV for all
    assert profiles > 0 and ltv == next_purchase == profiles and 0 < churn <= customers
    with connection(empty_raw) as conn, conn.cursor() as cur:
        cur.execute("SELECT DISTINCT scored_at FROM marts.profile_scores")
        assert cur.fetchall() == [(as_of,)]
        cur.execute("SELECT DISTINCT predicted_at, valid_until - predicted_at FROM marts.predictions ORDER BY 2")
        assert {row[0] for row in cur.fetchall()} == {as_of}
        cur.execute("SELECT DISTINCT joined_at FROM marts.segment_membership WHERE source = 'automatic'")
        assert cur.fetchall() in ([(as_of,)], [])
        # the sample ends when it was generated and the run is as of its end: live scores
        cur.execute(
            "SELECT max(engagement_score), count(*) FILTER (WHERE engagement_score >= 40) FROM marts.profile_scores"
        )
        best, engaged = cur.fetchone()
    assert best >= 60 and engaged > 0
    for kind in ("churn", "next_purchase", "ltv", "upgrade"):
        latest = home / "models" / kind / "LATEST"
        assert (latest.parent / latest.read_text() / "MODEL_CARD.md").exists()

    # the generator counts valid, distinct records: exactly what must land
    for table, key in (
        ("raw.segment_messages", "segment_messages"),
        ("raw.sendgrid_events", "sendgrid_events"),
        ("raw.shopify_orders", "shopify_orders"),
        ("raw.social_events", "social_events"),
        ("raw.historical_orders", "historical_order_rows"),
    ):
        assert count(empty_raw, table) == report.counts[key], table
    expected = report.counts["segment_messages"]
    with (home / "truth" / "malformed.csv").open() as handle:
        truth = {(row["file"], int(row["line"])) for row in csv.DictReader(handle)}
    with connection(empty_raw) as conn, conn.cursor() as cur:
        cur.execute("SELECT file_path, line_no FROM raw.quarantine")
        assert set(cur.fetchall()) == truth
    staged = (
        count(empty_raw, "staging.stg_segment__tracks")
        + count(empty_raw, "staging.stg_segment__pages")
        + count(empty_raw, "staging.stg_segment__screens")
        + count(empty_raw, "staging.stg_segment__identifies")
        + count(empty_raw, "staging.stg_segment__aliases")
        + count(empty_raw, "staging.stg_segment__groups")
    )
    assert staged == expected
    # identity resolution over the dbt identity graph: no false merge, and (nearly) every link the
    # data proves is found; identifiers no record links stay apart (the recall ceiling)
    from audience_dagster.identity.evaluate import evaluate_identity_map
    from audience_dagster.identity.identity_map import build_graph, read_edges, read_identity_map

    truth_ids = pd.read_csv(home / "truth" / "identifiers.csv", dtype=str, keep_default_na=False)
    with connection(empty_raw) as conn:
        identity = read_identity_map(conn)
        graph = build_graph(read_edges(conn))
    figures = evaluate_identity_map(identity, truth_ids, graph.edge_keys())
    assert figures["precision"] == 1.0
    assert figures["recall_provable"] >= 0.99
    assert figures["recall"] <= figures["recall_ceiling"] < 1  # unlinkable identifiers exist in the sample
    assert figures["linked_identifiers"] == figures["truth_identifiers"]  # every identifier has a profile
    before = {
        t: count(empty_raw, t)
        for t in (
            "raw.segment_messages",
            "raw.sendgrid_events",
            "raw.shopify_orders",
            "raw.social_events",
            "raw.historical_orders",
            "raw.quarantine",
        )
    }

    with dg.DagsterInstance.get() as instance:
        second = job.execute_in_process(instance=instance, raise_on_error=False)
        assert second.success
        runs = instance.get_runs()
        assert len(runs) >= 2
    # nothing new: the ingest pass materialises nothing (it observes), every later step is skipped
    assert second.get_asset_materialization_events() == []
    skipped = {e.step_key for e in second.all_events if e.event_type_value == "STEP_SKIPPED"}
    ran = {e.step_key for e in second.all_events if e.event_type_value == "STEP_SUCCESS"}
    # (the segment definitions step runs, finds its YAML files unchanged and materialises nothing too)
    assert ran == {"ingest", "segment_definitions"} and {"dbt_staging", "scores", "dbt_reports"} <= skipped
    after = {t: count(empty_raw, t) for t in before}
    assert after == before
    manifest = json.loads((home / "truth" / "manifest.json").read_text())
    assert manifest["parameters"]["people"] == 1_500


def test_definitions_are_complete_and_automation_runs_by_default() -> None:
    prepare_runtime()
    from audience_dagster.definitions import defs

    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        groups = {"ingest", "identity", "profiles", "scoring", "predictions", "segments", "reports", "collector"}
        groups.add("activation")
        assert graph.get(key).group_name in groups, key
    assert defs.resolve_schedule_def("hourly_ingest").default_status == dg.DefaultScheduleStatus.RUNNING
    assert defs.resolve_schedule_def("weekly_model_training").default_status == dg.DefaultScheduleStatus.RUNNING
    assert defs.resolve_sensor_def("audience_automation").default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_sensor_def("segment_schedule").default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_sensor_def("collector_intake").default_status == dg.DefaultSensorStatus.RUNNING

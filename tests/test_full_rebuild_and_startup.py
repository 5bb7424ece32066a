"""``refresh --full`` (and its alias ``--all``) and the Dagster job it runs; row counts read from
dbt's own results instead of a polling thread pool; start-up without a dbt parse while the
manifest is that of the project's files, and with one when a file or dbt changes."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import dagster as dg
import pytest

from audience_dagster import runtime
from audience_dagster.config import DBT_PROJECT_DIR
from audience_dagster.runs.cli import add_run_commands
from audience_dagster.runs.refresh import RefreshOptions
from audience_dagster.transform.dbt_events import rows_affected


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_run_commands(parser.add_subparsers())
    return parser.parse_args(list(argv))


def test_full_and_its_alias_all_ask_for_a_full_rebuild() -> None:
    assert parse("refresh", "--full").rebuild_all
    assert parse("refresh", "--all").rebuild_all
    assert parse("demo", "--full").rebuild_all
    assert not parse("refresh").rebuild_all


def finished(materialized: str, rows: object, status: str = "success") -> dict:
    return {
        "info": {"name": "NodeFinished"},
        "data": {
            "node_info": {"materialized": materialized, "node_status": status},
            "run_result": {"status": status, "adapter_response": {"_message": "SELECT 7", "rows_affected": rows}},
        },
    }


def test_row_counts_come_from_what_dbt_reported_for_tables_only() -> None:
    assert rows_affected(finished("table", 7)) == ("dagster/row_count", 7)
    assert rows_affected(finished("table", 501010.0)) == ("dagster/row_count", 501010)  # dbt's JSON: a float
    assert rows_affected(finished("partitioned_table", 9)) == ("dagster/row_count", 9)
    assert rows_affected(finished("incremental", 3)) == ("rows_written", 3)
    assert rows_affected(finished("view", -1)) is None  # CREATE VIEW reports no rows
    assert rows_affected(finished("table", -1)) is None
    assert rows_affected(finished("table", None, status="error")) is None
    assert rows_affected({"info": {"name": "MainReportVersion"}, "data": {}}) is None
    # what dbt Core writes at the default log level: LogModelResult with the command tag
    for materialized, status, expected in (
        ("table", "SELECT 12943", ("dagster/row_count", 12943)),
        ("partitioned_table", "INSERT 0 521262", ("dagster/row_count", 521262)),
        ("incremental", "INSERT 0 17", ("rows_written", 17)),
        ("view", "CREATE VIEW", None),
        ("table", "ERROR", None),
    ):
        event = {
            "info": {"name": "LogModelResult"},
            "data": {"node_info": {"materialized": materialized}, "status": status},
        }
        assert rows_affected(event) == expected


@pytest.mark.integration
def test_the_full_rebuild_job_is_every_asset_after_the_ingest_pass(warehouse_url: str) -> None:
    runtime.prepare_runtime()
    from audience_dagster.definitions import defs
    from audience_dagster.ingest.assets import ingest
    from audience_dagster.runs.definitions import FULL_REBUILD_JOB, FULL_REBUILD_OPS_CONFIG
    from audience_dagster.runs.refresh import _rebuild_plan

    graph = defs.resolve_asset_graph()
    job = defs.resolve_job_def(FULL_REBUILD_JOB)  # the UI launches it by this name
    with dg.instance_for_test() as instance:
        chosen, selection, run_config = _rebuild_plan(
            defs, instance, warehouse_url, RefreshOptions(rebuild_all=True), as_of=_as_of()
        )
    assert chosen.name == FULL_REBUILD_JOB
    assert selection == set(graph.materializable_asset_keys) - set(ingest.keys)
    assert run_config["ops"]["segment_definitions"] == {"config": {"resync": True}}
    stages = {name for name in run_config["ops"] if name.startswith("dbt_")}
    assert stages == {"dbt_staging", "dbt_profiles", "dbt_profile_view", "dbt_reports"}
    assert all(run_config["ops"][name] == {"config": {"full_refresh": True}} for name in stages)
    assert "clock" in run_config["resources"]
    steps = {node.name for node in job.graph.nodes}
    assert "segment_definitions" in steps and "dbt_profiles" in steps
    assert not steps & {node.name for node in defs.resolve_job_def("audience_ingest").graph.nodes}
    # what the UI launches without any config: the same resync
    assert job.run_config == {"ops": FULL_REBUILD_OPS_CONFIG}


def _as_of():
    from datetime import UTC, datetime

    return datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture()
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[int]]:
    """A copy of the dbt project the start-up check looks at; ``parses`` counts the parses it
    asked for (each writes the manifest, as dbt's does)."""
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    monkeypatch.setattr(runtime, "DBT_PROJECT_DIR", project)
    monkeypatch.setattr(runtime, "STAMP", project / "target" / ".audience-manifest")
    parses: list[int] = []

    from audience_dagster.transform.project import dbt_project

    def parse_project(_project) -> None:
        parses.append(1)
        (project / "target" / "manifest.json").write_text("{}")

    monkeypatch.setattr(dbt_project.preparer, "prepare", parse_project)
    return project, parses


URL = "postgresql://audience@localhost:5432/audience"


def test_startup_parses_only_when_the_manifest_is_not_that_of_the_files(project_copy, monkeypatch) -> None:
    project, parses = project_copy
    assert runtime.prepare_dbt_manifest(URL) is True  # no manifest yet
    assert runtime.prepare_dbt_manifest(URL) is False  # current: no parse
    assert runtime.prepare_dbt_manifest(URL) is False
    assert len(parses) == 1

    model = next((project / "models").rglob("*.sql"))
    stat = model.stat()
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # an edited model
    assert runtime.prepare_dbt_manifest(URL) is True
    assert runtime.prepare_dbt_manifest(URL) is False

    for name in ("dbt_project.yml", "profiles.yml"):
        path = project / name
        path.write_text(path.read_text() + "\n")
        assert runtime.prepare_dbt_manifest(URL) is True, name
    macro = project / "macros" / "zz_new_macro.sql"
    macro.write_text("{% macro zz() %}1{% endmacro %}\n")  # a new file
    assert runtime.prepare_dbt_manifest(URL) is True
    macro.unlink()  # a removed one
    assert runtime.prepare_dbt_manifest(URL) is True

    (project / "target" / "manifest.json").unlink()  # the manifest itself gone
    assert runtime.prepare_dbt_manifest(URL) is True
    assert runtime.prepare_dbt_manifest(URL.replace("/audience", "/other")) is True  # another database
    monkeypatch.setattr(runtime, "version", lambda _name: "9.9.9")  # another dbt version
    assert runtime.prepare_dbt_manifest(URL.replace("/audience", "/other")) is True
    assert runtime.prepare_dbt_manifest(URL.replace("/audience", "/other")) is False
    assert len(parses) == 9

"""The project's dbt resource: a real ``dbt`` command through it, with no ``dbt --version`` child
process and no dbt adapter built in the calling process (dagster-dbt's stock start-up work)."""

from __future__ import annotations

import ast
from importlib.metadata import version
from pathlib import Path

import dagster_dbt.core.resource as stock
import pytest

import audience_dagster
from audience_dagster.runtime import prepare_dbt_manifest
from audience_dagster.transform.dbt_process import dbt_executable
from audience_dagster.transform.dbt_resource import AudienceDbtCliResource
from audience_dagster.transform.project import dbt_project


def test_dbt_runs_without_a_version_probe_or_an_in_process_adapter(warehouse_url: str, monkeypatch) -> None:
    def no_child(*args, **kwargs):
        raise AssertionError(f"a child process for the dbt version: {args}")

    prepare_dbt_manifest(warehouse_url)
    monkeypatch.setattr(stock, "check_output", no_child)
    resource = AudienceDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
    assert str(resource._cli_version) == version("dbt-core")

    invocation = resource.cli(
        ["ls", "--select", "int_identity_edges", "--output", "name"],
        manifest=dbt_project.manifest_path,
        raise_on_error=False,
    )
    lines = [event.raw_event["info"]["msg"] for event in invocation.stream_raw_events()]
    assert invocation.is_successful(), lines
    assert invocation.adapter is None
    assert "int_identity_edges" in lines


@pytest.mark.parametrize("method", ["fetch_row_counts", "fetch_column_metadata"])
def test_what_needs_the_adapter_is_not_used(method: str) -> None:
    """The adapter only serves dagster-dbt's row-count and column-metadata fetchers; the project
    calls neither (row counts come from dbt's output: transform/dbt_events.py)."""
    package = Path(audience_dagster.__file__).parent
    users = [
        path
        for path in package.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method
    ]
    assert users == []

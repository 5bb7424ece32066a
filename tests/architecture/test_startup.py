"""Importing the code location starts nothing: no PostgreSQL, no database, no Dagster home."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from audience_dagster.config import process_environment

PROBE = """
import audience_dagster.definitions as d
graph = d.defs.resolve_asset_graph()
print(len(graph.get_all_asset_keys()))
"""


@pytest.mark.integration
def test_importing_the_definitions_starts_no_server(warehouse_url: str, tmp_path: Path) -> None:
    from audience_dagster.runtime import prepare_runtime

    prepare_runtime()  # a current dbt manifest, which the definitions read
    home = tmp_path / "home"
    env = process_environment({"AUDIENCE_HOME": str(home)})
    for name in ("DATABASE_URL", "AUDIENCE_DATABASE_URL", "AUDIENCE_LANDING_DIR"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.split()[-1]) > 40  # every capability's assets
    # the embedded server would have created its data folder (and a Dagster home) under home
    assert not home.exists(), sorted(str(p) for p in home.rglob("*"))

"""dagster-dbt's ``DbtCliResource`` without the start-up work this project never uses.

Each ``dbt.cli()`` of the stock resource first builds a dbt Core adapter in the calling process
(loads dbt's base macros, registers the adapter: about a second per dbt stage), which dagster-dbt
needs only for ``.fetch_column_metadata()`` and ``.fetch_row_counts()``: the project reads row
counts from dbt's own output instead (:mod:`.dbt_events`) and fetches no column metadata. And it
learns the dbt version by running ``dbt --version`` in a child process (two to three seconds of
imports per run); the dbt it starts is this environment's (``audience-dbt`` execs the installed
``dbt``), so the installed package's version is the same answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from importlib.metadata import version as installed_version

from dagster_dbt import DbtCliResource
from packaging import version


class AudienceDbtCliResource(DbtCliResource):
    """``DbtCliResource`` with no in-process adapter and the installed dbt-core's version."""

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(installed_version("dbt-core"))

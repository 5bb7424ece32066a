"""The dbt project as Dagster assets (one ``DbtProject``, models and tests via dagster-dbt).

Python assets sit between dbt models (identity resolution after the identity graph, the scores
and predictions between the profile base and the profile view, the segments before the
reports), so the project is built in stages, each one ``@dbt_assets`` (one ``dbt build`` step;
each costs a dbt start-up, so consecutive models with no Python step between them share one):

| stage | models | runs after |
| --- | --- | --- |
| ``dbt_staging`` | the staging views of the raw tables, the identity graph | the ingest pass |
| ``dbt_profiles`` | identity staging, events pipeline, audience_events, audience_profile_base | identity_map |
| ``dbt_profile_view`` | staging of scores, predictions; audience_profiles (base + both) | scores, predictions |
| ``dbt_reports`` | staging of segments and cohorts, the analyst reports | segments, cohorts |

Asset groups follow capabilities, not dbt layers: ingest (staging), identity, profiles, reports.
dbt tests become asset checks; models rebuild automatically (``AutomationCondition.eager``)
when what they read is re-materialised; each built table reports the rows its statement wrote
(the command tag dbt reports: no query, no polling — :mod:`.dbt_events`). dbt's own
output goes to ``<run log dir>/dbt.log`` (:class:`~audience_dagster.runs.logs.RunLogs`), not to the terminal, and
the dbt process is ended with the step (:mod:`.dbt_process`).
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hint.

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from audience_dagster.runs.logs import RunLogs
from audience_dagster.transform.dbt_events import stream_events
from audience_dagster.transform.dbt_process import end_process_group
from audience_dagster.transform.groups import capability_group
from audience_dagster.transform.project import dbt_project
from audience_dagster.transform.stages import STAGES, DbtStage
from audience_dagster.warehouse.resource import WAREHOUSE_POOL, WarehouseResource


class AudienceDbtTranslator(DagsterDbtTranslator):
    """Groups dbt models by capability (see ``GROUPS``) and makes them eager."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props.get("resource_type") == "model":
            group = capability_group(dbt_resource_props.get("original_file_path", ""))
            if group:
                return group
        return super().get_group_name(dbt_resource_props)

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        return dg.AutomationCondition.eager()


class DbtStageConfig(dg.Config):
    """``full_refresh``: ``dbt build --full-refresh`` — the incremental models (the typed events,
    audience_events) rebuilt from the raw tables instead of from their watermark. The full
    rebuild job (``audience refresh --full``) sets it for every stage."""

    full_refresh: bool = False


def build_stage(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    logs: RunLogs,
    stage: str,
    full_refresh: bool = False,
) -> Iterator[Any]:
    """``dbt build`` of the selected models against the warehouse: dbt's output to the run's
    ``dbt.log``, the dbt process ended with the step whatever happens (failure, interrupt)."""
    warehouse.resolve()  # dbt reads the resolved connection from this process's environment
    log = logs.folder(context) / "dbt.log"
    context.log.info(f"dbt output of {stage}: {log}")
    with log.open("a", encoding="utf-8") as out, contextlib.redirect_stdout(out):
        print(f"===== {stage} (run {context.run.run_id}) =====", flush=True)
        invocation = dbt.cli(["build", *(["--full-refresh"] if full_refresh else [])], context=context)
        try:
            yield from stream_events(invocation)
        finally:
            if end_process_group(invocation.process):
                context.log.warning(f"{stage}: the dbt process was still running and was ended")


def _stage_assets(stage: DbtStage) -> dg.AssetsDefinition:
    def _assets(
        context: AssetExecutionContext,
        config: DbtStageConfig,
        dbt: DbtCliResource,
        warehouse: WarehouseResource,
        logs: RunLogs,
    ) -> Iterator[Any]:
        yield from build_stage(context, dbt, warehouse, logs, stage.name, config.full_refresh)

    _assets.__doc__ = stage.description  # the step's description in the UI
    decorate = dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        dagster_dbt_translator=AudienceDbtTranslator(),
        select=stage.select,
        name=stage.name,
        pool=WAREHOUSE_POOL,
    )
    return decorate(_assets)


DBT_ASSETS: list[dg.AssetsDefinition] = [_stage_assets(stage) for stage in STAGES]

"""The dbt project as Dagster assets (one ``DbtProject``, models and tests via dagster-dbt).

The Python identity asset sits in the middle of the dbt graph (staging → identity edges →
``identity/identity_map`` → events and profiles), so the project is two ``@dbt_assets``: the
models that do not read the identity tables, and those that do (``source:identity+``). dbt
tests become asset checks; models rebuild automatically (``AutomationCondition.eager``) when
what they read is re-materialised; each built table reports its row count.
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hint.

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from audience_dagster.transform.project import dbt_project

# dbt selection of everything downstream of the identity sources (the identity asset's tables)
IDENTITY_DOWNSTREAM = "source:identity+"
# the analyst reports read what the segments assets write (Python, downstream of the marts)
REPORTS = "path:models/marts/reports"


class AudienceDbtTranslator(DagsterDbtTranslator):
    """Groups dbt models by layer (staging, intermediate, marts) and makes them eager."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props.get("resource_type") == "model" and len(fqn) > 1:
            return fqn[1]
        return super().get_group_name(dbt_resource_props)

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        return dg.AutomationCondition.eager()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=AudienceDbtTranslator(),
    exclude=IDENTITY_DOWNSTREAM,
)
def audience_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """`dbt build` of the models upstream of identity resolution (staging, identity edges)."""
    yield from dbt.cli(["build"], context=context).stream().fetch_row_counts()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=AudienceDbtTranslator(),
    select=IDENTITY_DOWNSTREAM,
    exclude=REPORTS,
)
def audience_dbt_marts(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """`dbt build` of the models that read the identity map: the event pipeline,
    audience_events (partitioned by month) and audience_profiles, with their tests."""
    yield from dbt.cli(["build"], context=context).stream().fetch_row_counts()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=AudienceDbtTranslator(),
    select=REPORTS,
)
def audience_dbt_reports(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """`dbt build` of the analyst reports (the spec's four queries, segment performance, the
    cohort retention matrix), downstream of the segments and cohorts assets."""
    yield from dbt.cli(["build"], context=context).stream().fetch_row_counts()

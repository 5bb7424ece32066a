"""The dbt project as Dagster assets (one ``DbtProject``, models and tests via dagster-dbt).

dbt tests become asset checks; models rebuild automatically (``AutomationCondition.eager``)
when the raw tables they read are re-materialised.
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hint.

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from audience_dagster.transform.project import dbt_project


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
)
def audience_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """`dbt build` of the selected models: runs them and their data and unit tests."""
    yield from dbt.cli(["build"], context=context).stream()

"""The profiles capability in Dagster: the dbt project's stages (staging, profiles, the profile
view, the reports), each one ``dbt build`` step, with dbt's tests as asset checks."""

from __future__ import annotations

import dagster as dg

from audience_dagster.config import Settings
from audience_dagster.transform.dbt import DBT_ASSETS


def build_transform_definitions(settings: Settings) -> dg.Definitions:
    """Resources ``dbt``, ``warehouse`` and ``logs``."""
    return dg.Definitions(assets=DBT_ASSETS)

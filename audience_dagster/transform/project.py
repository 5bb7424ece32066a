"""The one ``DbtProject`` (kept apart from the assets so it can be prepared before they load)."""

from __future__ import annotations

from dagster_dbt import DbtProject

from audience_dagster.config import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()

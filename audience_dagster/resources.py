"""Every resource of the code location, built from one :class:`~audience_dagster.config.Settings`.

Building them starts nothing and writes nothing: the warehouse is resolved (the embedded server
started) when a step, sensor or schedule first uses it.
"""

from __future__ import annotations

from audience_dagster.clock import RunClock
from audience_dagster.config import Settings
from audience_dagster.identity.resource import IdentityResource
from audience_dagster.runs.logs import RunLogs
from audience_dagster.transform.dbt_process import dbt_executable
from audience_dagster.transform.dbt_resource import AudienceDbtCliResource
from audience_dagster.transform.project import dbt_project
from audience_dagster.warehouse.resource import LandingZone, WarehouseResource


def build_resources(settings: Settings) -> dict[str, object]:
    """``warehouse``, ``landing``, ``dbt``, ``clock``, ``logs`` and ``identity``."""
    return {
        "warehouse": WarehouseResource.from_settings(settings),
        "landing": LandingZone(path=str(settings.landing_dir)),
        "dbt": AudienceDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
        "clock": RunClock(as_of=settings.as_of.isoformat() if settings.as_of else ""),
        "logs": RunLogs(root=str(settings.log_dir)),
        "identity": IdentityResource.from_settings(settings),
    }

"""The Dagster code location: each capability's definitions, merged, and the shared resources.

Each capability folder holds its own ``definitions.py`` (assets, checks, jobs, schedules, sensors;
its asset keys in its ``keys.py``); this module only merges them. Importing it starts nothing:
the resources are built from one :class:`~audience_dagster.config.Settings` and resolve the
warehouse (starting the embedded PostgreSQL) when a run, sensor or schedule first uses it. The CLI
(:func:`audience_dagster.runtime.prepare_runtime`) prepares the instance and the dbt manifest
before it loads them.

The asset graph reads left to right by capability — ingest → identity → profiles → scoring,
predictions → segments → reports — and every table a step reads is an asset some step of the
same job materialises, so Dagster orders the steps by what they read.
"""

from __future__ import annotations

import dagster as dg

from audience_dagster.activation.definitions import build_activation_definitions
from audience_dagster.collector.definitions import build_collector_definitions
from audience_dagster.config import Settings, load_settings
from audience_dagster.identity.definitions import build_identity_definitions
from audience_dagster.ingest.definitions import build_ingest_definitions
from audience_dagster.predictions.definitions import build_predictions_definitions
from audience_dagster.resources import build_resources
from audience_dagster.runs.definitions import build_runs_definitions
from audience_dagster.scoring.definitions import build_scoring_definitions
from audience_dagster.segments.definitions import build_segments_definitions
from audience_dagster.transform.definitions import build_transform_definitions

CAPABILITIES = (
    build_ingest_definitions,
    build_identity_definitions,
    build_transform_definitions,
    build_scoring_definitions,
    build_predictions_definitions,
    build_segments_definitions,
    build_collector_definitions,
    build_activation_definitions,
    build_runs_definitions,
)


def build_definitions(settings: Settings) -> dg.Definitions:
    """Every capability's definitions with the resources of ``settings``."""
    return dg.Definitions.merge(
        *(build(settings) for build in CAPABILITIES),
        dg.Definitions(resources=build_resources(settings)),
    )


defs = build_definitions(load_settings())

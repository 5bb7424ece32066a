"""The identity capability in Dagster: the identity map and the fuzzy duplicate suggestions."""

from __future__ import annotations

import dagster as dg

from audience_dagster.config import Settings
from audience_dagster.identity.assets import duplicate_suggestions, identity_map


def build_identity_definitions(settings: Settings) -> dg.Definitions:
    """Resources ``warehouse`` and ``identity`` (the ``AUDIENCE_IDENTITY_*`` settings)."""
    return dg.Definitions(assets=[identity_map, duplicate_suggestions])

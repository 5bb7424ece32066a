"""The identity capability's asset keys, defined once."""

from __future__ import annotations

import dagster as dg

IDENTITY_MAP_KEY = dg.AssetKey(["identity", "identity_map"])
DUPLICATE_SUGGESTIONS_KEY = dg.AssetKey(["identity", "duplicate_suggestions"])

"""The keys of the dbt models other capabilities read, defined once (dagster-dbt names each model
``<schema>/<model>``; the stages are in :mod:`.dbt`)."""

from __future__ import annotations

import dagster as dg

IDENTITY_EDGES_KEY = dg.AssetKey(["intermediate", "int_identity_edges"])
IDENTITY_IDENTIFIERS_KEY = dg.AssetKey(["intermediate", "int_identity_identifiers"])
# the profile table the scores, predictions and duplicate suggestions read
PROFILE_BASE_KEY = dg.AssetKey(["marts", "audience_profile_base"])
EVENTS_KEY = dg.AssetKey(["marts", "audience_events"])
# the spec's audience_profiles view (profile base + scores + predictions) the segments read
PROFILES_KEY = dg.AssetKey(["marts", "audience_profiles"])

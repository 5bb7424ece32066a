"""The identity asset: resolve the identity graph built by dbt into ``identity.identity_map``."""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hint.

import time

import dagster as dg
from dagster import AssetExecutionContext

from audience_dagster.identity.identity_map import resolve_warehouse_identities
from audience_dagster.identity.keys import DUPLICATE_SUGGESTIONS_KEY, IDENTITY_MAP_KEY
from audience_dagster.identity.resource import IdentityResource
from audience_dagster.identity.suggestions import suggest_fuzzy_duplicates
from audience_dagster.transform.keys import IDENTITY_EDGES_KEY, IDENTITY_IDENTIFIERS_KEY, PROFILE_BASE_KEY
from audience_dagster.warehouse.resource import WAREHOUSE_POOL, WarehouseResource


@dg.asset(
    key=IDENTITY_MAP_KEY,
    group_name="identity",
    kinds={"python", "scipy", "postgres"},
    deps=[IDENTITY_EDGES_KEY, IDENTITY_IDENTIFIERS_KEY],
    automation_condition=dg.AutomationCondition.eager(),
    pool=WAREHOUSE_POOL,
)
def identity_map(
    context: AssetExecutionContext, warehouse: WarehouseResource, identity: IdentityResource
) -> dg.MaterializeResult:
    """Which identifiers are one person, under a profile id that survives rebuilds.

    `int_identity_identifiers` / `int_identity_edges` resolved with the `AUDIENCE_IDENTITY_*`
    settings (emails and phones normalised, the junk list for every type, the shared-value guard,
    aliases between user ids as one identity, per-type limits replayed strongest link first, a
    device joining one person) and the recorded manual merges / unmerges (docs/identity.md),
    into `identity.identity_map` (identifier → profile id),
    `identity.profiles` (every id ever issued; merged ids point at their survivor),
    `identity.profile_merges` (what merged or split in this rebuild, with the evidence) and
    `identity.dropped_edges` (every link not used, with the reason), `identity.blocked_identifiers`
    (junk, shared and invalid values, with why) and the over-limit `identity.duplicate_suggestions`."""
    started = time.perf_counter()
    setup = identity.setup()
    with warehouse.connection() as conn:
        run = resolve_warehouse_identities(conn, setup.rules, options=setup.options, junk_file=setup.junk_file)
    frame = run.frame
    reasons = run.resolution.dropped_edges["reason"].value_counts()
    counts = run.assignment.counts
    context.log.info(
        f"{len(run.graph.edge_u)} edges, {len(frame)} identifiers -> {counts['profiles']} profiles "
        f"({counts['new_profiles']} new, {counts['merged_profiles']} merged, {counts['split_profiles']} split)"
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(frame),
            "edges": len(run.graph.edge_u),
            **{name: int(value) for name, value in counts.items()},
            "manual_operations_applied": run.manual_operations,
            "blocked_identifiers": int(frame["blocked"].sum()),
            "shared_device_identifiers": int(frame["shared_device"].sum()),
            "shared_values": len(run.resolution.shared_values),
            "invalid_values": len(run.graph.rejected),
            "over_limit_suggestions": len(run.suggestions),
            "seconds": round(time.perf_counter() - started, 2),
            "dropped_edges": dg.MetadataValue.md(
                "| reason | edges |\n| --- | --- |\n" + "\n".join(f"| {r} | {n} |" for r, n in reasons.items())
            ),
        }
    )


@dg.asset(
    key=DUPLICATE_SUGGESTIONS_KEY,
    group_name="identity",
    kinds={"python", "recordlinkage", "postgres"},
    deps=[PROFILE_BASE_KEY],
    automation_condition=dg.AutomationCondition.eager(),
    pool=WAREHOUSE_POOL,
)
def duplicate_suggestions(
    context: AssetExecutionContext, warehouse: WarehouseResource, identity: IdentityResource
) -> dg.MaterializeResult:
    """Profiles that may be one person, for a person to review (never merged automatically).

    Fellegi–Sunter record linkage (recordlinkage's ECM) over names, phone, email local part,
    city and state of `marts.audience_profile_base`, with blocking so that only profiles sharing
    a key are compared; pairs at or above `AUDIENCE_IDENTITY_DUPLICATE_THRESHOLD` replace the open
    `fuzzy` rows of `identity.duplicate_suggestions`. Its own asset, after the profiles: it never
    holds up the identity map. `audience identity suggestions` lists them; `… accept ID` merges."""
    started = time.perf_counter()
    setup = identity.setup()
    with warehouse.connection() as conn:
        figures = suggest_fuzzy_duplicates(conn, setup.duplicate_threshold)
    context.log.info(f"{figures['suggestions']} fuzzy duplicate suggestions over {figures['profiles']} profiles")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(figures["suggestions"]),
            **{name: int(value) for name, value in figures.items()},
            "threshold": setup.duplicate_threshold,
            "seconds": round(time.perf_counter() - started, 2),
        }
    )


IDENTITY_ASSETS = (identity_map, duplicate_suggestions)

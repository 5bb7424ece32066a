"""The identity asset: resolve the identity graph built by dbt into ``identity.identity_map``."""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hint.

import time

import dagster as dg
from dagster import AssetExecutionContext

from audience_dagster.identity.identity_map import resolve_warehouse_identities
from audience_dagster.warehouse.resource import WarehouseResource


@dg.asset(
    key=["identity", "identity_map"],
    group_name="identity",
    kinds={"python", "scipy", "postgres"},
    deps=[dg.AssetKey(["intermediate", "int_identity_edges"])],
    automation_condition=dg.AutomationCondition.eager(),
)
def identity_map(context: AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Which identifiers are one person: `int_identity_edges` resolved with the default
    `IdentityRules` (blocked junk values, per-type limits in time order, shared devices left
    unmerged) into `identity.identity_map` (identifier → profile key) and
    `identity.dropped_edges` (every link not used, with the reason)."""
    started = time.perf_counter()
    with warehouse.connection() as conn:
        frame, resolution, graph = resolve_warehouse_identities(conn)
    reasons = resolution.dropped_edges["reason"].value_counts()
    profiles = frame.loc[~frame["blocked"], "profile_key"].nunique()
    context.log.info(f"{len(graph.edge_u)} edges, {len(frame)} identifiers -> {profiles} profiles")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(frame),
            "edges": len(graph.edge_u),
            "profiles": int(profiles),
            "blocked_identifiers": int(frame["blocked"].sum()),
            "shared_device_identifiers": int(frame["shared_device"].sum()),
            "seconds": round(time.perf_counter() - started, 2),
            "dropped_edges": dg.MetadataValue.md(
                "| reason | edges |\n| --- | --- |\n" + "\n".join(f"| {r} | {n} |" for r, n in reasons.items())
            ),
        }
    )

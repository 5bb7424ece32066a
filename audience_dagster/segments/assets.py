"""Segments and cohorts as Dagster assets, refreshed on each segment's own schedule.

* ``segments/micro_segments`` + ``segments/cohort_definitions``: the YAML files synced into the
  spec's tables (rows only in the tables are left alone); their code version is the files' hash,
  so an edited YAML file makes them (and the memberships) stale;
* ``segments/segment_membership``: refreshes the active segments (config ``slugs``; default all
  with ``auto_refresh``) — eagerly after the profiles, events or predictions change, and per segment by the
  ``segment_schedule`` sensor when its ``refresh_frequency`` has passed. A failing segment is
  rolled back alone (its ``last_error`` says why); the check ``every_segment_refreshed`` then
  fails, naming it — red, not blocking: the other segments and everything downstream still run;
* ``segments/cohort_membership``: every active cohort's members.

Relative dates, lookbacks, expiry and cohort windows are evaluated as of the run's clock.
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hint.

import hashlib
from datetime import UTC, datetime

import dagster as dg
from dagster import AssetExecutionContext

from audience_dagster import markdown
from audience_dagster.clock import RunClock
from audience_dagster.predictions.assets import PREDICTIONS_KEY  # writes marts.predictions: ML segments read it
from audience_dagster.segments.cohort_refresh import refresh_cohorts
from audience_dagster.segments.definitions_yaml import DEFAULTS, load_cohorts, load_segments
from audience_dagster.segments.keys import COHORT_MEMBERSHIP_KEY, COHORTS_KEY, MEMBERSHIP_KEY, SEGMENTS_KEY
from audience_dagster.segments.sync import sync_cohorts, sync_segments
from audience_dagster.segments.warehouse import due_segments, refresh_segments
from audience_dagster.transform.keys import EVENTS_KEY, PROFILES_KEY
from audience_dagster.warehouse.resource import WAREHOUSE_POOL, WarehouseResource


def definitions_version() -> str:
    """A hash of the shipped segment and cohort YAML files (the definitions' code version)."""
    digest = hashlib.sha256()
    for kind in ("segments", "cohorts"):
        for path in sorted(DEFAULTS.joinpath(kind).iterdir(), key=lambda f: f.name):
            if path.name.endswith((".yaml", ".yml")):
                digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


DEFINITIONS_VERSION = definitions_version()


def _markdown(header: tuple[str, ...], rows: list[tuple]) -> dg.MetadataValue:
    return dg.MetadataValue.md(markdown.table(header, rows))


class DefinitionsConfig(dg.Config):
    """``resync``: sync the YAML files even when they did not change since the last sync."""

    resync: bool = False


def already_synced(context: AssetExecutionContext, conn, segments: list, cohorts: list) -> bool:
    """The files are those of the last sync (its code version) and their rows are in the tables."""
    for key in (SEGMENTS_KEY, COHORTS_KEY):
        entry = context.instance.get_latest_materialization_event(key)
        tags = entry.asset_materialization.tags if entry and entry.asset_materialization else None
        if not tags or tags.get("dagster/code_version") != DEFINITIONS_VERSION:
            return False
    with conn.cursor() as cur:
        for table, defined in (("marts.micro_segments", segments), ("marts.cohort_definitions", cohorts)):
            slugs = [d.slug for d in defined]
            cur.execute(f"SELECT count(*) FROM {table} WHERE managed_by = 'yaml' AND slug = ANY(%s)", (slugs,))
            if cur.fetchone()[0] != len(slugs):
                return False
    return True


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            SEGMENTS_KEY,
            description="marts.micro_segments: the segment definitions (YAML files synced in, plus table edits).",
            group_name="segments",
            kinds={"yaml", "postgres"},
            code_version=DEFINITIONS_VERSION,
            automation_condition=dg.AutomationCondition.on_missing(),
            skippable=True,
        ),
        dg.AssetSpec(
            COHORTS_KEY,
            description="marts.cohort_definitions: the cohort definitions (YAML files synced in, plus table edits).",
            group_name="segments",
            kinds={"yaml", "postgres"},
            code_version=DEFINITIONS_VERSION,
            automation_condition=dg.AutomationCondition.on_missing(),
            skippable=True,
        ),
    ],
    name="segment_definitions",
    pool=WAREHOUSE_POOL,
)
def segment_definitions(context: AssetExecutionContext, config: DefinitionsConfig, warehouse: WarehouseResource):
    """Sync the repo's segment and cohort YAML files into `micro_segments` and
    `cohort_definitions` (upsert by slug; a bad file fails here, naming its path). Files that did
    not change since the last sync (and are in the tables) materialise nothing, so nothing after
    them reruns; `resync` syncs anyway."""
    segments, cohorts = load_segments(), load_cohorts()
    with warehouse.connection() as conn:
        if not config.resync and already_synced(context, conn, segments, cohorts):
            context.log.info("the segment and cohort YAML files are unchanged since the last sync: nothing to do")
            return
        sync_segments(conn, segments)
        sync_cohorts(conn, cohorts)
        with conn.cursor() as cur:
            cur.execute(
                "SELECT slug, segment_type, status, auto_refresh, refresh_frequency::text, managed_by, member_count"
                " FROM marts.micro_segments ORDER BY slug"
            )
            rows = cur.fetchall()
            cur.execute(
                "SELECT slug, name, cohort_type, cohort_period, status FROM marts.cohort_definitions ORDER BY 1"
            )
            cohort_rows = cur.fetchall()
    yield dg.MaterializeResult(
        asset_key=SEGMENTS_KEY,
        metadata={
            "dagster/row_count": len(rows),
            "synced_from_yaml": len(segments),
            "segments": _markdown(("slug", "type", "status", "auto", "every", "managed_by", "members"), rows),
        },
    )
    yield dg.MaterializeResult(
        asset_key=COHORTS_KEY,
        metadata={
            "dagster/row_count": len(cohort_rows),
            "synced_from_yaml": len(cohorts),
            "cohorts": _markdown(("slug", "name", "type", "period", "status"), cohort_rows),
        },
    )


class SegmentRefreshConfig(dg.Config):
    """Which segments to refresh: the slugs given, or (empty) every active auto-refresh segment."""

    slugs: list[str] = []


@dg.asset(
    key=MEMBERSHIP_KEY,
    deps=[SEGMENTS_KEY, PROFILES_KEY, EVENTS_KEY, PREDICTIONS_KEY],
    pool=WAREHOUSE_POOL,
    group_name="segments",
    kinds={"python", "postgres"},
    automation_condition=dg.AutomationCondition.eager(),
    check_specs=[dg.AssetCheckSpec("every_segment_refreshed", asset=MEMBERSHIP_KEY)],
)
def segment_membership(
    context: AssetExecutionContext, config: SegmentRefreshConfig, warehouse: WarehouseResource, clock: RunClock
):
    """Refresh segment membership set-based in PostgreSQL as of the run's clock (one transaction per
    segment: who entered, who exited, stayers keep joined_at, manual/import members kept until they
    expire), and log the changes in `marts.segment_membership_changes`."""
    as_of = clock.now
    with warehouse.connection() as conn:
        results = refresh_segments(conn, as_of, config.slugs or None)
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM marts.segment_membership")
            total = cur.fetchone()[0]
    failed = [r for r in results if r.error]
    for r in failed:
        context.log.error(r.error)
    rows = [
        (r.slug, r.segment_type, r.members, r.entered, r.exited, round(r.seconds, 3), r.error or "") for r in results
    ]
    yield dg.MaterializeResult(
        asset_key=MEMBERSHIP_KEY,
        metadata={
            "dagster/row_count": total,
            "as_of": as_of.isoformat(),
            "segments_refreshed": len(results) - len(failed),
            "segments_failed": len(failed),
            "entered": sum(r.entered for r in results),
            "exited": sum(r.exited for r in results),
            "segments": _markdown(("slug", "type", "members", "entered", "exited", "seconds", "error"), rows),
        },
    )
    yield dg.AssetCheckResult(
        check_name="every_segment_refreshed",
        asset_key=MEMBERSHIP_KEY,
        passed=not failed,
        description="; ".join(r.error for r in failed) or "every segment refreshed",
        metadata={"failed": dg.MetadataValue.json([r.slug for r in failed])},
    )


@dg.asset(
    key=COHORT_MEMBERSHIP_KEY,
    deps=[COHORTS_KEY, PROFILES_KEY, EVENTS_KEY],
    pool=WAREHOUSE_POOL,
    group_name="segments",
    kinds={"python", "postgres"},
    automation_condition=dg.AutomationCondition.eager(),
    check_specs=[dg.AssetCheckSpec("every_cohort_refreshed", asset=COHORT_MEMBERSHIP_KEY)],
)
def cohort_membership(context: AssetExecutionContext, warehouse: WarehouseResource, clock: RunClock):
    """Rebuild every active cohort's membership as of the run's clock (`marts.cohort_membership`:
    entry time and period, exit time) from `cohort_definitions`; the retention matrix (dbt) reads it."""
    as_of = clock.now
    with warehouse.connection() as conn:
        results = refresh_cohorts(conn, as_of)
    failed = [r for r in results if r.error]
    yield dg.MaterializeResult(
        asset_key=COHORT_MEMBERSHIP_KEY,
        metadata={
            "dagster/row_count": sum(r.members for r in results),
            "as_of": as_of.isoformat(),
            "cohorts": _markdown(
                ("slug", "members", "exited", "seconds", "error"),
                [(r.slug, r.members, r.exited, round(r.seconds, 3), r.error or "") for r in results],
            ),
        },
    )
    yield dg.AssetCheckResult(
        check_name="every_cohort_refreshed",
        asset_key=COHORT_MEMBERSHIP_KEY,
        passed=not failed,
        description="; ".join(r.error for r in failed) or "every cohort refreshed",
    )


segment_refresh_job = dg.define_asset_job(
    "segment_refresh",
    selection=dg.AssetSelection.assets(MEMBERSHIP_KEY),
    description="Refresh the segments named in the config (the segment_schedule sensor names the due ones).",
)


@dg.sensor(
    job=segment_refresh_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Each active auto-refresh segment at its own refresh_frequency (micro_segments), checked every minute.",
)
def segment_schedule(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        due = due_segments(conn, datetime.now(UTC))
    if not due:
        return dg.SkipReason("no segment is due")
    slugs = [slug for slug, _ in due]
    # the same due set (same last refresh times) is requested once, however many ticks see it
    key = hashlib.sha256(repr(due).encode()).hexdigest()[:16]
    return dg.RunRequest(
        run_key=f"segments-{key}",
        run_config={"ops": {"segments__segment_membership": {"config": {"slugs": slugs}}}},
        tags={"segments": ",".join(slugs)[:200]},
    )


SEGMENT_ASSETS = [segment_definitions, segment_membership, cohort_membership]

"""The collector in Dagster: the ``collector/intake`` asset and the sensor that observes it.

``audience serve`` runs outside Dagster (a web server is no job); what it takes in is published
as landing files, which the ingest assets load like any other. The ``collector_intake`` sensor
(on by default) looks every ``AUDIENCE_COLLECTOR_INGEST_INTERVAL_SECONDS``: it records an
observation of ``collector/intake`` (events received, waiting and loaded per source, duplicates,
quarantine with reasons, do-not-track, suppressed) and, when published files wait, requests a
run of the ingest assets of those sources; the automation sensor then rebuilds what depends on
them. The hourly ingest schedule loads them as well, so nothing waits more than an hour even
with this sensor off.
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hint.

import hashlib

import dagster as dg

from audience_dagster.collector.intake import SourceIntake, read_intake
from audience_dagster.config import Settings
from audience_dagster.ingest.keys import SOURCE_KEYS
from audience_dagster.warehouse.resource import LandingZone, WarehouseResource

INTAKE_KEY = dg.AssetKey(["collector", "intake"])

intake_asset = dg.AssetSpec(
    INTAKE_KEY,
    group_name="collector",
    kinds={"python", "http"},
    description=(
        "What `audience serve` takes in: Segment SDK calls, SendGrid Event Webhook events and "
        "Shopify order webhooks, fsync'd to a spool before each 200 and published as files under "
        "`<landing>/<source>/collector/`, which the raw ingest assets load. Observed by the "
        "`collector_intake` sensor (events received, waiting, loaded, duplicates, quarantined)."
    ),
)


def intake_metadata(intake: dict[str, SourceIntake]) -> dict[str, object]:
    """Observation metadata: totals per source, a table, and the quarantine reasons."""
    rows = "\n".join(
        f"| {source} | {i.events_received if i.events_received is not None else '≥' + str(i.events_loaded)} "
        f"| {len(i.waiting)} | {i.files_loaded} | {i.inserted} | {i.duplicates} | {i.quarantined} "
        f"| {i.do_not_track} | {i.suppressed} |"
        for source, i in intake.items()
    )
    reasons = "\n".join(
        f"| {source} | {reason} | {count} |"
        for source, i in intake.items()
        for reason, count in i.quarantine_reasons.items()
    )
    metadata: dict[str, object] = {
        f"{source}_{name}": value
        for source, i in intake.items()
        for name, value in (
            ("events_received", i.events_received if i.events_received is not None else -1),
            ("events_waiting", i.waiting_events if i.waiting_events is not None else -1),
            ("files_waiting", len(i.waiting)),
            ("quarantined", i.quarantined),
        )
    }
    metadata["per_source"] = dg.MetadataValue.md(
        "| source | events received | files waiting | files loaded | stored | duplicates | quarantined "
        "| do-not-track | suppressed |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n" + rows
    )
    metadata["quarantine_reasons"] = dg.MetadataValue.md(
        "| source | reason | records |\n| --- | --- | --- |\n" + reasons if reasons else "none"
    )
    return metadata


def build_collector_definitions(settings: Settings) -> dg.Definitions:
    """The intake asset and its sensor (resources ``warehouse`` and ``landing`` come from the
    top-level definitions)."""

    @dg.sensor(
        name="collector_intake",
        minimum_interval_seconds=settings.collector.ingest_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        target=dg.AssetSelection.assets(*SOURCE_KEYS.values()),
        description="Observes collector/intake and loads the collector's published files when any wait.",
    )
    def collector_intake(
        context: dg.SensorEvaluationContext, warehouse: WarehouseResource, landing: LandingZone
    ) -> dg.SensorResult:
        with warehouse.connection() as conn, conn.cursor() as cur:
            intake = read_intake(cur, landing.root)
        waiting = sorted(path for i in intake.values() for path in i.waiting)
        requests = []
        if waiting:
            sources = sorted({path.split("/", 1)[0] for path in waiting})
            requests.append(
                dg.RunRequest(
                    run_key="collector-" + hashlib.sha256("\n".join(waiting).encode()).hexdigest()[:16],
                    asset_selection=[SOURCE_KEYS[source] for source in sources],
                    tags={"audience/trigger": "collector_intake"},
                )
            )
            context.log.info(f"{len(waiting)} collector files wait: loading {', '.join(sources)}")
        return dg.SensorResult(
            run_requests=requests,
            asset_events=[dg.AssetObservation(asset_key=INTAKE_KEY, metadata=intake_metadata(intake))],
        )

    return dg.Definitions(assets=[intake_asset], sensors=[collector_intake])

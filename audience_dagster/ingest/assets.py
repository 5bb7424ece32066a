"""Raw ingestion assets: one per touchpoint, each loading the new files of its landing folder."""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hint.

from functools import partial

import dagster as dg
from dagster import AssetExecutionContext

from audience_dagster.ingest.historical_orders import load_orders_csv
from audience_dagster.ingest.loader import FileLoad, SourceLoad, load_directory, load_source
from audience_dagster.ingest.sources import JSON_SOURCES, Source
from audience_dagster.warehouse.resource import LandingZone, WarehouseResource

QUARANTINE_WARN_SHARE = 0.01


def describe_file_load(load: FileLoad) -> str:
    if load.skipped:
        return f"{load.path}: already loaded (same content hash), skipped"
    if load.rejected:
        return f"{load.path}: REJECTED — {load.rejected}"
    privacy = "".join(
        f", {count} {label}"
        for count, label in ((load.suppressed, "suppressed (erased people)"), (load.do_not_track, "do-not-track"))
        if count
    )
    again = f", {load.already_quarantined} quarantined before" if load.already_quarantined else ""
    return (
        f"{load.path}: {load.inserted} new rows, {load.duplicates} duplicates, "
        f"{load.quarantined} quarantined{again}{privacy} in {load.seconds:.1f}s"
    )


def _table_rows(warehouse: WarehouseResource, table: str) -> int:
    with warehouse.connection() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")  # table names come from static Source defs
        return int(cur.fetchone()[0])


def _result(report: SourceLoad, table: str, warehouse: WarehouseResource, key: dg.AssetKey) -> dg.MaterializeResult:
    records = report.total("records")
    quarantined = report.total("quarantined")
    share = quarantined / records if records else 0.0
    reasons = "\n".join(f"| {reason} | {count} |" for reason, count in report.quarantine_reasons.most_common())
    seconds = max(report.seconds, 1e-9)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": _table_rows(warehouse, table),
            "files_loaded": report.files_loaded,
            "files_skipped_already_loaded": report.files_skipped,
            "records_read": records,
            "rows_inserted": report.total("inserted"),
            "duplicates_skipped": report.total("duplicates"),
            "quarantined": quarantined,
            "already_quarantined": report.total("already_quarantined"),
            "files_rejected": len(report.rejected),
            "suppressed_erased_people": report.total("suppressed"),
            "do_not_track_not_stored": report.total("do_not_track"),
            "seconds": round(report.seconds, 2),
            "records_per_second": round(records / seconds),
            "quarantine_reasons": dg.MetadataValue.md(
                "| reason | records |\n| --- | --- |\n" + reasons if reasons else "none"
            ),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="quarantine_share_below_1pct",
                asset_key=key,
                passed=share <= QUARANTINE_WARN_SHARE,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"quarantined": quarantined, "records": records, "share": round(share, 5)},
                description="Share of this run's records sent to raw.quarantine",
            ),
            _rejected_files_result(report, key),
        ],
    )


def _rejected_files_result(report: SourceLoad, key: dg.AssetKey) -> dg.AssetCheckResult:
    rejected = report.rejected
    rows = "\n".join(f"| {f.path} | {f.rejected} |" for f in rejected)
    return dg.AssetCheckResult(
        check_name="no_rejected_files",
        asset_key=key,
        passed=not rejected,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "files_rejected": len(rejected),
            "rejected": dg.MetadataValue.md("| file | reason |\n| --- | --- |\n" + rows if rows else "none"),
        },
        description="Files of this run that could not be loaded at all (recorded as rejected in raw.loaded_files)",
    )


def _check_specs(key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            "quarantine_share_below_1pct",
            asset=key,
            description="Warns when more than 1% of a run's records are quarantined "
            "(look at raw.quarantine / stg_ingest__quarantined_records).",
        ),
        dg.AssetCheckSpec(
            "no_rejected_files",
            asset=key,
            description="Fails (red, not blocking: the other files and everything downstream still run) when a "
            "file of the run could not be loaded at all — a corrupt gzip, an unreadable file, a CSV without the "
            "required columns. The file is recorded as rejected in raw.loaded_files with the reason and tried "
            "again at the next run; replace it with a readable one.",
        ),
    ]


def build_raw_asset(source: Source) -> dg.AssetsDefinition:
    """An asset that loads ``<landing>/<source>/`` into ``source.table``."""
    key = dg.AssetKey(source.table.split("."))

    @dg.asset(
        key=key,
        group_name="ingest",
        kinds={"python", "postgres"},
        description=(
            f"{source.description}, loaded from `<landing>/{source.landing_subdir}/*.jsonl` "
            f"into `{source.table}` with COPY and one set-based validation statement per file. "
            f"Deduplicated on `{source.key}`; files already loaded (by source and content hash) are "
            "skipped; malformed records go to `raw.quarantine` with file, line and reason; a file that "
            "cannot be read at all is recorded as rejected (check `no_rejected_files`). "
            "Records of erased people (`privacy.suppressed_identifiers`) and do-not-track "
            "Segment messages are counted, not stored."
        ),
        check_specs=_check_specs(key),
    )
    def _raw_asset(
        context: AssetExecutionContext, warehouse: WarehouseResource, landing: LandingZone
    ) -> dg.MaterializeResult:
        report = load_source(
            warehouse.url,
            source,
            landing.root,
            future_tolerance=warehouse.future_tolerance,
            workers=landing.load_workers,
            progress=lambda f: context.log.info(describe_file_load(f)),
        )
        return _result(report, source.table, warehouse, key)

    return _raw_asset


HISTORICAL_ORDERS_KEY = dg.AssetKey(["raw", "historical_orders"])


@dg.asset(
    key=HISTORICAL_ORDERS_KEY,
    group_name="ingest",
    kinds={"python", "postgres"},
    check_specs=_check_specs(HISTORICAL_ORDERS_KEY),
)
def raw_historical_orders(
    context: AssetExecutionContext, warehouse: WarehouseResource, landing: LandingZone
) -> dg.MaterializeResult:
    """Order history a store imports as CSV (`<landing>/historical_orders/*.csv`): customer id
    and/or email, order date, amount, optional order id and currency. Loaded into
    `raw.historical_orders`; rows without an order id are keyed by a content hash."""
    report = load_directory(
        warehouse.url,
        "historical_orders",
        landing.root / "historical_orders",
        "csv",
        partial(load_orders_csv, future_tolerance=warehouse.future_tolerance),
        workers=landing.load_workers,
        progress=lambda f: context.log.info(describe_file_load(f)),
    )
    return _result(report, "raw.historical_orders", warehouse, HISTORICAL_ORDERS_KEY)


def _bookkeeping(table: str, description: str) -> dg.AssetSpec:
    """A table every ingest asset writes as a side effect (dbt reads it as a source)."""
    return dg.AssetSpec(
        ["raw", table],
        group_name="ingest",
        kinds={"postgres"},
        description=f"{description} Written by every raw ingest asset.",
    )


ingest_bookkeeping = [
    _bookkeeping(
        "quarantine",
        "Records no raw table accepted, with source, file, line, reason and the "
        "record itself; read via stg_ingest__quarantined_records.",
    ),
    _bookkeeping(
        "loaded_files",
        "Ledger of landing files by source and content hash (what makes re-loading a file a no-op), with "
        "per-file counts; files that could not be read are `rejected` with the reason.",
    ),
]

raw_assets: list[dg.AssetsDefinition] = [
    *(build_raw_asset(source) for source in JSON_SOURCES),
    raw_historical_orders,
]

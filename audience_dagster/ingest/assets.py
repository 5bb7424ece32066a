"""The ingest pass as one Dagster multi-asset: every new landing file of every touchpoint.

One step loads the new files of every source folder and reports each raw table, the quarantine
and the file ledger (``raw.loaded_files``) it wrote, so everything dbt's staging reads is
materialised by the step before it. Each table's data version is a fingerprint of its ledger
rows (count and latest load; the quarantine's rows), which changes only when that table got new
content — by this pass, by ``audience import-orders``, or by an erasure.

A pass after which no fingerprint differs from what Dagster last recorded materialises nothing
(it records an observation per table instead): the steps after it in the same run are skipped
and the automation sensor sees no update, so nothing downstream reruns. Otherwise it reports
every table; a table whose version did not change leaves what reads only it fresh.
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hint.

from functools import partial

import dagster as dg
from dagster import AssetExecutionContext
from dagster._core.definitions.data_version import DATA_VERSION_TAG

from audience_dagster.ingest.folders import missing_landing_dir
from audience_dagster.ingest.historical_orders import load_orders_csv
from audience_dagster.ingest.keys import (
    HISTORICAL_ORDERS_KEY,
    LOADED_FILES_KEY,
    QUARANTINE_KEY,
    RAW_KEYS,
    RAW_TABLES,
    SOURCE_KEYS,
)
from audience_dagster.ingest.ledger import LEDGER_VERSIONS_SQL
from audience_dagster.ingest.loader import FileLoad, SourceLoad, load_directory, load_source
from audience_dagster.ingest.sources import JSON_SOURCES
from audience_dagster.warehouse.resource import WAREHOUSE_POOL, LandingZone, WarehouseResource

QUARANTINE_WARN_SHARE = 0.01


def describe_file_load(load: FileLoad) -> str:
    if load.skipped:
        return f"{load.path}: already loaded (same path, size and time, or same content hash), skipped"
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
    """The raw table's rows, from the counter its triggers keep (ingest migration 005), not a
    count(*) that reads the whole table; a table without a counter is counted."""
    with warehouse.connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT row_count FROM raw.row_counts WHERE table_name = %s", (table,))
        row = cur.fetchone()
        if row is not None:
            return int(row[0])
        cur.execute(f"SELECT count(*) FROM {table}")  # table names come from static Source defs
        return int(cur.fetchone()[0])


def ledger_versions(warehouse: WarehouseResource) -> dict[dg.AssetKey, dg.DataVersion]:
    """Each table's data version: its files in the ledger (count, latest load); the quarantine's
    rows. A table without a new file keeps its version, so what reads only it stays fresh."""
    with warehouse.connection() as conn, conn.cursor() as cur:
        cur.execute(LEDGER_VERSIONS_SQL)
        found = dict(cur.fetchall())
    keys = {**{name: key for name, (_, key) in RAW_TABLES.items()}, "raw.loaded_files": LOADED_FILES_KEY}
    keys["raw.quarantine"] = QUARANTINE_KEY
    return {key: dg.DataVersion(found.get(name, "0:")) for name, key in keys.items()}


def ledger_empty(warehouse: WarehouseResource) -> bool:
    """No file was ever loaded: nothing to report yet (a pass over an empty landing folder)."""
    with warehouse.connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT NOT EXISTS (SELECT 1 FROM raw.loaded_files)")
        return bool(cur.fetchone()[0])


def recorded_version(instance: dg.DagsterInstance, key: dg.AssetKey) -> str | None:
    """The data version of the asset's latest materialisation, as Dagster recorded it."""
    entry = instance.get_latest_materialization_event(key)
    materialization = entry.asset_materialization if entry else None
    return materialization.tags.get(DATA_VERSION_TAG) if materialization and materialization.tags else None


def _result(
    report: SourceLoad, table: str, warehouse: WarehouseResource, key: dg.AssetKey, version: dg.DataVersion | None
) -> dg.MaterializeResult:
    records = report.total("records")
    quarantined = report.total("quarantined")
    share = quarantined / records if records else 0.0
    reasons = "\n".join(f"| {reason} | {count} |" for reason, count in report.quarantine_reasons.most_common())
    seconds = max(report.seconds, 1e-9)
    return dg.MaterializeResult(
        asset_key=key,
        data_version=version,
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


def _raw_spec(key: dg.AssetKey, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(key, description=description, group_name="ingest", kinds={"python", "postgres"}, skippable=True)


SOURCE_SPECS = [
    *(
        _raw_spec(
            SOURCE_KEYS[source.name],
            f"{source.description}, loaded from `<landing>/{source.landing_subdir}/*.jsonl` "
            f"into `{source.table}` with COPY and one set-based validation statement per file. "
            f"Deduplicated on `{source.key}`; files already loaded (by source and content hash) are "
            "skipped; malformed records go to `raw.quarantine` with file, line and reason; a file that "
            "cannot be read at all is recorded as rejected (check `no_rejected_files`). "
            "Records of erased people (`privacy.suppressed_identifiers`) and do-not-track "
            "Segment messages are counted, not stored.",
        )
        for source in JSON_SOURCES
    ),
    _raw_spec(
        HISTORICAL_ORDERS_KEY,
        "Order history a store imports as CSV (`<landing>/historical_orders/*.csv`): customer id "
        "and/or email, order date, amount, optional order id and currency. Loaded into "
        "`raw.historical_orders`; rows without an order id are keyed by a content hash.",
    ),
    _raw_spec(
        QUARANTINE_KEY,
        "Records no raw table accepted, with source, file, line, reason and the record itself; "
        "read via stg_ingest__quarantined_records.",
    ),
    _raw_spec(
        LOADED_FILES_KEY,
        "Ledger of landing files by source and content hash (what makes re-loading a file a no-op), with "
        "per-file counts; files that could not be read are `rejected` with the reason; read via "
        "stg_ingest__loaded_files.",
    ),
]


def load_landing(warehouse: WarehouseResource, landing: LandingZone, log) -> dict[str, SourceLoad]:
    """Load every new file of every source folder under the landing root; per ledger source name."""
    root = landing.root
    if not root.is_dir():
        raise missing_landing_dir(root)

    def progress(load: FileLoad) -> None:
        log.info(describe_file_load(load))

    reports = {
        source.name: load_source(
            warehouse.url,
            source,
            root,
            future_tolerance=warehouse.future_tolerance,
            workers=landing.load_workers,
            progress=progress,
        )
        for source in JSON_SOURCES
    }
    reports["historical_orders"] = load_directory(
        warehouse.url,
        "historical_orders",
        root / "historical_orders",
        "csv",
        partial(load_orders_csv, future_tolerance=warehouse.future_tolerance),
        workers=landing.load_workers,
        progress=progress,
    )
    return reports


@dg.multi_asset(
    name="ingest",
    specs=SOURCE_SPECS,
    check_specs=[spec for key in RAW_KEYS for spec in _check_specs(key)],
    # subsettable so that its outputs (and checks) are optional: a pass with nothing new yields
    # none. Any selection runs the whole pass; only the selected tables are reported.
    can_subset=True,
    pool=WAREHOUSE_POOL,
)
def ingest(context: AssetExecutionContext, warehouse: WarehouseResource, landing: LandingZone):
    """Load every new landing file (`<landing>/<source>/`) into its raw table: COPY and one
    set-based validation statement per file, one transaction per file; files already in the
    ledger are skipped. Materialises nothing when no table's content changed."""
    reports = load_landing(warehouse, landing, context.log)
    loaded = sum(r.files_loaded for r in reports.values())
    selected = context.selected_asset_keys
    versions = {k: v for k, v in ledger_versions(warehouse).items() if k in selected}
    changed = [k for k, v in versions.items() if recorded_version(context.instance, k) != v.value]
    if ledger_empty(warehouse) or not changed:
        skipped = sum(r.files_skipped for r in reports.values())
        context.log.info(
            f"nothing new under {landing.root}: {skipped} file(s), all loaded before; nothing materialised"
        )
        for name, report in reports.items():
            if RAW_TABLES[name][1] in selected:
                yield dg.AssetObservation(
                    asset_key=RAW_TABLES[name][1],
                    metadata={"files_loaded": 0, "files_skipped_already_loaded": report.files_skipped},
                )
        return
    for name, report in reports.items():
        table, key = RAW_TABLES[name]
        if key in selected:
            yield _result(report, table, warehouse, key, versions[key])
    if QUARANTINE_KEY in selected:
        quarantined = sum(r.total("quarantined") for r in reports.values())
        rows = _table_rows(warehouse, "raw.quarantine")
        yield dg.MaterializeResult(
            asset_key=QUARANTINE_KEY,
            data_version=versions[QUARANTINE_KEY],
            metadata={"dagster/row_count": rows, "quarantined_this_pass": quarantined},
        )
    if LOADED_FILES_KEY in selected:
        yield dg.MaterializeResult(
            asset_key=LOADED_FILES_KEY,
            data_version=versions[LOADED_FILES_KEY],
            metadata={
                "dagster/row_count": _table_rows(warehouse, "raw.loaded_files"),
                "files_loaded": loaded,
                "changed": dg.MetadataValue.json(sorted(k.to_user_string() for k in changed)),
            },
        )

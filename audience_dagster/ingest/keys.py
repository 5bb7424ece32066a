"""The ingest capability's asset keys, defined once: one per raw table, the quarantine, the ledger."""

from __future__ import annotations

import dagster as dg

from audience_dagster.ingest.sources import JSON_SOURCES

HISTORICAL_ORDERS_KEY = dg.AssetKey(["raw", "historical_orders"])
QUARANTINE_KEY = dg.AssetKey(["raw", "quarantine"])
LOADED_FILES_KEY = dg.AssetKey(["raw", "loaded_files"])
# JSON source name (segment, sendgrid, …) -> the key of its raw table
SOURCE_KEYS: dict[str, dg.AssetKey] = {s.name: dg.AssetKey(s.table.split(".")) for s in JSON_SOURCES}
# ledger source name -> (raw table, asset key)
RAW_TABLES: dict[str, tuple[str, dg.AssetKey]] = {
    **{s.name: (s.table, SOURCE_KEYS[s.name]) for s in JSON_SOURCES},
    "historical_orders": ("raw.historical_orders", HISTORICAL_ORDERS_KEY),
}
RAW_KEYS = [key for _, key in RAW_TABLES.values()]

"""The short summary ``audience demo`` / ``audience refresh`` print: what is in the warehouse."""

from __future__ import annotations

from audience_dagster.warehouse.connection import connection, redact

RAW_TABLES = ("segment_messages", "sendgrid_events", "shopify_orders", "social_events", "historical_orders")


def warehouse_counts(url: str) -> dict[str, int]:
    """Row counts of the raw tables, the quarantine, every staging view, the identity map and
    registry, and the marts (events, profiles, scores, predictions, segments, cohorts) present."""
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
            " WHERE table_schema IN ('raw', 'staging')"
            " OR (table_schema, table_name) IN (('identity', 'identity_map'), ('identity', 'profiles'),"
            " ('marts', 'audience_events'), ('marts', 'audience_profiles'), ('marts', 'profile_scores'),"
            " ('marts', 'predictions'), ('marts', 'micro_segments'), ('marts', 'segment_membership'),"
            " ('marts', 'cohort_membership'))"
            " ORDER BY array_position(ARRAY['raw', 'staging', 'identity', 'marts'], table_schema::text), table_name"
        )
        names = [row[0] for row in cur.fetchall() if not row[0].endswith("loaded_files")]
        counts: dict[str, int] = {}
        for name in names:  # names come from the catalog, not from input
            cur.execute(f"SELECT count(*) FROM {name}")
            counts[name] = int(cur.fetchone()[0])
        return counts


def quarantine_by_source(url: str) -> dict[str, int]:
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT source, count(*) FROM raw.quarantine GROUP BY 1 ORDER BY 1")
        return {source: int(n) for source, n in cur.fetchall()}


def rejected_files(url: str) -> list[tuple[str, str, str, int]]:
    """(source, file, reason, attempts) of the landing files the ledger holds as rejected."""
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT source, file_path, reason, attempts FROM raw.loaded_files WHERE status = 'rejected'"
            " ORDER BY source, file_path"
        )
        return cur.fetchall()


def print_summary(url: str) -> None:
    counts = warehouse_counts(url)
    print(f"\nWarehouse: {redact(url)}")
    print(f"{'table / view':48s} {'rows':>12s}")
    for name, n in counts.items():
        print(f"{name:48s} {n:12,d}")
    quarantine = quarantine_by_source(url)
    if quarantine:
        print(
            "Quarantined records by source (see staging.stg_ingest__quarantined_records): "
            + ", ".join(f"{s}={n}" for s, n in quarantine.items())
        )
    rejected = rejected_files(url)
    if rejected:
        print(f"REJECTED FILES ({len(rejected)}; nothing of them was loaded, see raw.loaded_files):")
        for source, path, reason, attempts in rejected:
            print(f"  {source}: {path} (tried {attempts}x): {reason}")

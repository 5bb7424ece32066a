"""The short summary ``audience demo`` / ``audience refresh`` print: what each stage took, what is in
the warehouse, how many members each segment has and how the engagement scores spread."""

from __future__ import annotations

from collections.abc import Sequence

from audience_dagster.runs.progress import StageTime, elapsed, stage_name
from audience_dagster.warehouse.connection import connection, redact

RAW_TABLES = ("segment_messages", "sendgrid_events", "shopify_orders", "social_events", "historical_orders")


def warehouse_counts(url: str) -> dict[str, int]:
    """Row counts of the raw tables and the quarantine, the identity map and registry, and the
    marts (events, profiles, scores, predictions, segments, cohorts) present. Not of the staging
    views: counting one parses the JSON of every raw row it reads (seconds per million rows, at
    every refresh); each shows its raw table's rows of one kind. A raw table's count is the one
    its triggers keep (``raw.row_counts``): a count(*) would read the largest tables whole."""
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('raw.row_counts') IS NOT NULL")
        kept: dict[str, int] = {}
        if cur.fetchone()[0]:
            cur.execute("SELECT table_name, row_count FROM raw.row_counts")
            kept = {name: int(n) for name, n in cur.fetchall()}
        cur.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
            " WHERE (table_schema = 'raw' AND table_type = 'BASE TABLE')"
            " OR (table_schema, table_name) IN (('identity', 'identity_map'), ('identity', 'profiles'),"
            " ('marts', 'audience_events'), ('marts', 'audience_profiles'), ('marts', 'profile_scores'),"
            " ('marts', 'predictions'), ('marts', 'micro_segments'), ('marts', 'segment_membership'),"
            " ('marts', 'cohort_membership'))"
            " ORDER BY array_position(ARRAY['raw', 'identity', 'marts'], table_schema::text), table_name"
        )
        names = [row[0] for row in cur.fetchall() if row[0] not in ("raw.loaded_files", "raw.row_counts")]
        counts: dict[str, int] = {}
        for name in names:  # names come from the catalog, not from input
            if name in kept:
                counts[name] = kept[name]
                continue
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


def segment_sizes(url: str) -> list[tuple[str, str, int]]:
    """(slug, segment type, members) of every active segment, as of its last refresh."""
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('marts.micro_segments') IS NOT NULL")
        if not cur.fetchone()[0]:
            return []
        cur.execute(
            "SELECT slug, segment_type, coalesce(member_count, 0) FROM marts.micro_segments"
            " WHERE status = 'active' ORDER BY slug"
        )
        return [(slug, kind, int(n)) for slug, kind, n in cur.fetchall()]


def engagement_spread(url: str) -> dict[str, float]:
    """Minimum, quartiles and maximum of the engagement scores, and the as_of they were computed at."""
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT min(engagement_score), percentile_disc(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP"
            " (ORDER BY engagement_score), max(engagement_score), max(scored_at)::text FROM marts.profile_scores"
        )
        low, quartiles, high, as_of = cur.fetchone()
    if low is None:
        return {}
    return {"min": low, "p25": quartiles[0], "median": quartiles[1], "p75": quartiles[2], "max": high, "as_of": as_of}


def print_stages(stages: Sequence[StageTime]) -> None:
    if not stages:
        return
    print(f"\n{'stage':52s} {'outcome':>8s} {'time':>9s} {'assets':>7s}")
    for stage in stages:
        print(f"{stage_name(stage.step):52s} {stage.outcome:>8s} {elapsed(stage.seconds):>9s} {stage.materialized:>7d}")
    print(f"{'all stages':52s} {'':>8s} {elapsed(sum(s.seconds for s in stages)):>9s}")


def print_results(url: str) -> None:
    """Segment sizes and the engagement spread (what a demo should show)."""
    sizes = segment_sizes(url)
    if sizes:
        print(f"\n{'segment':32s} {'type':>12s} {'members':>10s}")
        for slug, kind, members in sizes:
            print(f"{slug:32s} {kind:>12s} {members:10,d}")
    spread = engagement_spread(url)
    if spread:
        print(
            f"engagement_score as of {spread['as_of']}: min {spread['min']}, quartiles {spread['p25']} /"
            f" {spread['median']} / {spread['p75']}, max {spread['max']}"
        )

"""``audience bench segments``: every shipped segment refreshed over N synthetic profiles (default
1M), and the behavioral one over ~25 events per profile, in a scratch database.

The data is the scores bench's (:func:`~audience_dagster.bench.scores.synthetic_profiles`: the
spec's profile columns, events shaped like the generator's sample), scored by the real scores
statement; ``marts.audience_profiles`` is a view like dbt's (profile base + scores). Each
segment is refreshed twice: the first refresh inserts every member, the second (after a day)
is the steady state (stayers untouched, entered/exited only). Prints figures; asserts nothing.
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np
import pandas as pd

from audience_dagster.bench.database import bench_database_url, drop_bench_database
from audience_dagster.bench.scores import AS_OF, SPEC_TABLES, synthetic_profiles
from audience_dagster.scoring.parameters import SCORE_COLUMNS
from audience_dagster.scoring.warehouse import ensure_rules_table, run_scores
from audience_dagster.segments.cohort_refresh import refresh_cohorts
from audience_dagster.segments.definitions_yaml import load_cohorts, load_segments
from audience_dagster.segments.sync import sync_cohorts, sync_segments
from audience_dagster.segments.warehouse import refresh_segments
from audience_dagster.warehouse.connection import bootstrap, connection
from audience_dagster.warehouse.frames import copy_in

BENCH_SEGMENTS_DB = "audience_bench_segments"


def create_profiles_view(cur) -> None:
    """``marts.audience_profiles`` as dbt builds it: the base with the scores' columns on top."""
    cur.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = 'marts' AND table_name = 'audience_profile_base' ORDER BY ordinal_position"
    )
    columns = [r[0] for r in cur.fetchall()]
    select = ", ".join(f"coalesce(s.{c}, b.{c}) AS {c}" if c in SCORE_COLUMNS else f"b.{c}" for c in columns)
    cur.execute("DROP VIEW IF EXISTS marts.audience_profiles")
    cur.execute(
        f"CREATE VIEW marts.audience_profiles AS SELECT {select}"
        " FROM marts.audience_profile_base b LEFT JOIN marts.profile_scores s ON s.id = b.id"
    )


def load_synthetic(url: str, profiles: int, seed: int, events_per_profile: int | None = None) -> dict[str, object]:
    """Spec tables filled with synthetic profiles and events, scored, with the profiles view.

    Events go in with one COPY per million rows; ``events_per_profile`` tops them up in SQL
    (copies of a random sample, moved back up to 30 days) to about that many per profile."""
    rng = np.random.default_rng(seed)
    frame, events = synthetic_profiles(profiles, rng)
    events["properties"] = np.where(rng.random(len(events)) < 0.3, '{"category": "shoes"}', '{"category": "books"}')
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(SPEC_TABLES)
        cur.execute("ALTER TABLE marts.audience_events ADD COLUMN properties jsonb DEFAULT '{}'")
        copy_in(cur, "marts.audience_profile_base", frame)
        for start in range(0, len(events), 1_000_000):
            copy_in(cur, "marts.audience_events", events.iloc[start : start + 1_000_000])
        total = len(events)
        del events
        if events_per_profile is not None and events_per_profile * profiles > total:
            share = min(1.0, (events_per_profile * profiles - total) / total)
            cur.execute(
                "INSERT INTO marts.audience_events (profile_id, event_type, occurred_at, properties)"
                " SELECT profile_id, event_type, occurred_at - random() * interval '30 days', properties"
                " FROM marts.audience_events WHERE random() < %s",
                (share,),
            )
            total += cur.rowcount
        cur.execute("CREATE INDEX ON marts.audience_events (profile_id, occurred_at)")
        cur.execute("ANALYZE marts.audience_profile_base; ANALYZE marts.audience_events")
        conn.commit()
        ensure_rules_table(conn)
        run_scores(conn, AS_OF)
        create_profiles_view(cur)
    return {"profiles": profiles, "events": total}


def run_segments_bench(profiles: int, events_per_profile: int, keep: bool, seed: int = 7) -> dict[str, object]:
    """Load, then refresh every shipped segment twice (initial and steady state) and the cohorts."""
    url = bench_database_url(BENCH_SEGMENTS_DB)
    bootstrap(url)
    started = time.perf_counter()
    figures: dict[str, object] = dict(load_synthetic(url, profiles, seed, events_per_profile))
    figures["load_seconds"] = time.perf_counter() - started
    print(f"[bench] {profiles:,} profiles and {figures['events']:,} events loaded and scored", file=sys.stderr)
    with connection(url) as conn:
        with conn.cursor() as cur:  # a churn prediction per profile, for the ML segment
            cur.execute(
                "INSERT INTO marts.predictions (profile_id, prediction_type, predicted_value, model_version)"
                " SELECT id, 'churn', round(random()::numeric, 3), 'bench' FROM marts.audience_profile_base"
            )
        sync_segments(conn, load_segments())
        sync_cohorts(conn, load_cohorts())
        for label, as_of in (("initial", AS_OF), ("steady", AS_OF + pd.Timedelta(days=1))):
            results = refresh_segments(conn, as_of.to_pydatetime())
            for r in results:
                if r.error:
                    raise SystemExit(r.error)
                rate = (r.matched / r.seconds) if r.seconds else 0.0
                print(
                    f"[bench] {label} {r.slug}: {r.seconds:.2f}s members={r.members:,} entered={r.entered:,}"
                    f" exited={r.exited:,} ({rate:,.0f} matched rows/s)",
                    file=sys.stderr,
                )
                figures[f"{label}_{r.slug}_seconds"] = r.seconds
                figures[f"{label}_{r.slug}_members"] = r.members
            figures[f"{label}_all_seconds"] = sum(r.seconds for r in results)
        cohort_started = time.perf_counter()
        cohorts = refresh_cohorts(conn, (AS_OF + pd.Timedelta(days=1)).to_pydatetime())
        figures["cohorts_seconds"] = time.perf_counter() - cohort_started
        figures["cohort_members"] = sum(c.members for c in cohorts)
    steady = figures["steady_all_seconds"]
    figures["steady_profiles_per_second"] = profiles * len(results) / steady if steady else 0.0
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    drop_bench_database(url, BENCH_SEGMENTS_DB, keep)
    return figures

"""``audience destinations sync|status``, ``audience eval recommendations|pricing`` and
``audience bench activation`` (each ends with one ``key=value`` line)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path


def _key_values(figures: dict[str, object]) -> str:
    from audience_dagster.console import key_values

    return key_values(figures)


def cmd_destinations_sync(args: argparse.Namespace) -> int:
    from audience_dagster.activation.service import sync_destinations
    from audience_dagster.config import load_settings
    from audience_dagster.runtime import prepare_runtime
    from audience_dagster.warehouse.connection import connection

    settings = load_settings()
    warehouse = prepare_runtime(parse_dbt=False)
    with connection(warehouse.url) as conn:
        outcomes = sync_destinations(conn, settings.activation, settings.as_of or datetime.now(UTC), args.slugs or None)
    totals = {"destinations": len(outcomes), "failed": 0, "sent": 0, "dead_letters": 0}
    for o in outcomes:
        if o.result is None:
            totals["failed"] += 1
            print(f"{o.destination}: error: {o.error}")
            continue
        r = o.result
        totals["sent"] += r.sent
        totals["dead_letters"] += r.dead_letters
        print(
            f"{r.destination}: sync={r.sync_id}{' (resumed)' if r.resumed else ''} entered={r.entered} "
            f"exited={r.exited} removed={r.removed} skipped_no_consent={r.skipped_no_consent} "
            f"sent={r.sent} failed={r.failed} dead_letters={r.dead_letters}"
        )
    print(_key_values(totals))
    return 1 if totals["failed"] or totals["dead_letters"] else 0


def cmd_destinations_status(args: argparse.Namespace) -> int:
    from audience_dagster.activation.service import destination_status
    from audience_dagster.runtime import prepare_runtime
    from audience_dagster.warehouse.connection import connection

    warehouse = prepare_runtime(parse_dbt=False)
    with connection(warehouse.url) as conn:
        names, rows = destination_status(conn)
    print("\t".join(names))
    for row in rows:
        print("\t".join("" if v is None else str(v) for v in row))
    dead = sum(int(r[names.index("dead_letters")]) for r in rows)
    print(_key_values({"destinations": len(rows), "dead_letters": dead}))
    return 0


def cmd_eval_recommendations(args: argparse.Namespace) -> int:
    from audience_dagster.bench.eval_recommendations import evaluate_recommendations
    from audience_dagster.runtime import prepare_runtime

    prepare_runtime(parse_dbt=False)
    print(_key_values(evaluate_recommendations(Path(args.sample) if args.sample else None, args.test_days)))
    return 0


def cmd_eval_pricing(args: argparse.Namespace) -> int:
    from audience_dagster.bench.eval_pricing import evaluate_pricing
    from audience_dagster.runtime import prepare_runtime

    prepare_runtime(parse_dbt=False)
    print(_key_values(evaluate_pricing(Path(args.sample) if args.sample else None)))
    return 0


def cmd_bench_activation(args: argparse.Namespace) -> int:
    from audience_dagster.bench.activation import bench_activation
    from audience_dagster.runtime import prepare_runtime

    prepare_runtime(parse_dbt=False)
    print(_key_values(bench_activation(args.profiles, args.seed, args.keep)))
    return 0


def add_activation_commands(
    sub: argparse._SubParsersAction, bench_sub: argparse._SubParsersAction, eval_sub: argparse._SubParsersAction
) -> None:
    """The activation commands on the top-level, ``bench`` and ``eval`` parsers."""
    destinations = sub.add_parser("destinations", help="sync segments out to files, webhooks and Mailchimp")
    dest_sub = destinations.add_subparsers(dest="destinations", required=True)
    sync = dest_sub.add_parser("sync", help="sync every active destination now (or the slugs named)")
    sync.add_argument("slugs", nargs="*")
    sync.set_defaults(func=cmd_destinations_sync)
    status = dest_sub.add_parser("status", help="each destination: held, last sync, cursor, dead letters")
    status.set_defaults(func=cmd_destinations_status)

    recs = eval_sub.add_parser("recommendations", help="hit rate and recall@10 on a time split vs. popularity")
    recs.add_argument("--sample", help="sample folder (default: the demo's)")
    recs.add_argument("--test-days", type=int, default=30, help="the last N days of the sample are the test window")
    recs.set_defaults(func=cmd_eval_recommendations)
    pricing = eval_sub.add_parser("pricing", help="offers vs. the generator's latent price sensitivity")
    pricing.add_argument("--sample", help="sample folder (default: the demo's)")
    pricing.set_defaults(func=cmd_eval_pricing)

    bench = bench_sub.add_parser("activation", help="recommendations, actions and offers for N profiles")
    bench.add_argument("--profiles", type=int, default=1_000_000)
    bench.add_argument("--seed", type=int, default=7)
    bench.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    bench.set_defaults(func=cmd_bench_activation)

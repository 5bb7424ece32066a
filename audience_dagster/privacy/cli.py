"""``audience privacy erase|export|bench``: a data subject's erasure and export (docs/privacy.md)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from audience_dagster.console import key_values


def _privacy_lookup(args: argparse.Namespace):
    """The person a privacy command names (argparse makes the four options exclusive)."""
    from audience_dagster.privacy import Lookup

    if args.identifier is not None:
        return Lookup.parse(args.identifier)
    named = {"email": args.email, "user_id": args.user_id, "profile_id": args.profile_id}
    kind, value = next((kind, value) for kind, value in named.items() if value is not None)
    return Lookup(kind, value)


def cmd_privacy_erase(args: argparse.Namespace) -> int:
    from audience_dagster.privacy import erase_person
    from audience_dagster.runtime import prepare_runtime
    from audience_dagster.warehouse.connection import connection

    lookup = _privacy_lookup(args)
    warehouse = prepare_runtime(parse_dbt=False)
    with connection(warehouse.url) as conn:
        result = erase_person(conn, lookup, dry_run=args.dry_run)
    for table, rows in {**result.rows_deleted, **{f"{t} (updated)": n for t, n in result.rows_updated.items()}}.items():
        print(f"[erase] {table:34s} {rows:>8,d}", file=sys.stderr)
    if result.skipped_tables:
        print(f"[erase] skipped (do not exist yet): {', '.join(result.skipped_tables)}", file=sys.stderr)
    print(
        key_values(
            {
                "outcome": "dry_run" if result.dry_run else result.outcome,
                "request_id": result.request_id,
                "resolved_via": result.resolved_via,
                "profiles": result.profiles,
                "identifiers_suppressed": sum(result.identifiers_suppressed.values()),
                "rows_deleted": result.total_deleted,
                "rows_updated": sum(result.rows_updated.values()),
            }
        )
    )
    return 0


def cmd_privacy_export(args: argparse.Namespace) -> int:
    import json

    from audience_dagster.privacy import export_person
    from audience_dagster.runtime import prepare_runtime
    from audience_dagster.warehouse.connection import connection

    lookup = _privacy_lookup(args)
    warehouse = prepare_runtime(parse_dbt=False)
    with connection(warehouse.url) as conn:
        document = export_person(conn, lookup)
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
    if args.out:
        Path(args.out).write_text(text + "\n")
        print(f"[export] wrote {args.out}", file=sys.stderr)
    else:
        print(text)
    return 0


def cmd_privacy_bench(args: argparse.Namespace) -> int:
    from audience_dagster.bench.privacy import run_suppression_bench

    figures = run_suppression_bench(
        args.people, args.seed, args.workers, share=args.share, unrelated=args.unrelated, rounds=args.rounds
    )
    print(key_values(figures))
    return 0


def add_privacy_commands(sub: argparse._SubParsersAction) -> None:
    """``audience privacy erase|export|bench``."""
    privacy = sub.add_parser("privacy", help="erase or export everything held about a person")
    privacy_sub = privacy.add_subparsers(dest="privacy", required=True)
    for name, func, help_text in (
        ("erase", cmd_privacy_erase, "delete every row about a person and suppress their identifiers"),
        ("export", cmd_privacy_export, "everything held about a person, as JSON"),
    ):
        command = privacy_sub.add_parser(name, help=help_text)
        who = command.add_mutually_exclusive_group(required=True)
        who.add_argument("--email")
        who.add_argument("--user-id")
        who.add_argument("--profile-id")
        who.add_argument("--identifier", metavar="TYPE:VALUE", help="e.g. shopify_customer_id:6000000000123")
        if name == "erase":
            command.add_argument("--dry-run", action="store_true", help="count what would go; change nothing")
        else:
            command.add_argument("--out", help="write the JSON here instead of stdout")
        command.set_defaults(func=func)
    bench = privacy_sub.add_parser("bench", help="ingest throughput with and without a suppression list")
    bench.add_argument("--people", type=int, default=20_000)
    bench.add_argument("--seed", type=int, default=7)
    bench.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    bench.add_argument("--share", type=float, default=0.01, help="share of people erased")
    bench.add_argument("--unrelated", type=int, default=10_000, help="extra suppressed hashes of nobody")
    bench.add_argument("--rounds", type=int, default=1, help="repeat and keep the best time of each")
    bench.set_defaults(func=cmd_privacy_bench)

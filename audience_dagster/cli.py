"""``audience``: the command line for what a person runs by hand.

Long work reports progress on stderr; ``eval`` and ``bench`` commands end with one line of
``key=value`` pairs on stdout for scripts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

from audience_dagster.activation.cli import add_activation_commands
from audience_dagster.config import load_settings
from audience_dagster.errors import AudienceError, RunInProgressError
from audience_dagster.runs.commands import cmd_demo, cmd_import_orders, cmd_refresh, cmd_ui


def _progress(label: str):
    started = time.perf_counter()

    def report(done: int, total: int) -> None:
        print(
            f"\r[{label}] {done}/{total} ({time.perf_counter() - started:.0f}s)",
            end="\n" if done == total else "",
            file=sys.stderr,
            flush=True,
        )

    return report


def key_values(figures: dict[str, object]) -> str:
    """The machine-readable closing line: ``k=v k=v`` with floats rounded sensibly."""

    def fmt(value: object) -> str:
        if isinstance(value, float):
            if 0.99 < value < 1:  # a ratio just below 1 must not print as 1
                return f"{value:.6f}".rstrip("0")
            return f"{value:.4g}" if abs(value) < 1000 else f"{value:.0f}"
        return str(value)

    return " ".join(f"{key}={fmt(value)}" for key, value in figures.items())


def cmd_generate(args: argparse.Namespace) -> int:
    from audience_dagster.sample_data import generate

    if args.messy:
        from audience_dagster.sample_data.messy import generate_messy

        figures = generate_messy(Path(args.out), seed=args.seed, people=args.people or 300)
        print(f"wrote {Path(args.out) / 'landing'} and {Path(args.out) / 'truth'} (adversarial)", file=sys.stderr)
        print(key_values(figures))
        return 0

    args.people = args.people or 20_000
    report = generate(
        args.people, args.seed, Path(args.out), end=args.end, workers=args.workers, progress=_progress("generate")
    )  # end None: yesterday, so the data ends when it is generated
    print(f"wrote {Path(args.out) / 'landing'} and {Path(args.out) / 'truth'}", file=sys.stderr)
    print(
        key_values(
            {
                "people": args.people,
                "events": report.events,
                "seconds": report.seconds,
                "events_per_s": report.events / max(report.seconds, 1e-9),
            }
        )
    )
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from audience_dagster.bench.ingest import run_ingest_bench

    figures = run_ingest_bench(
        people=args.people, seed=args.seed, workers=args.workers, reuse=args.reuse, keep=args.keep
    )
    print(key_values(figures))
    return 0


def cmd_bench_refresh(args: argparse.Namespace) -> int:
    from audience_dagster.bench.refresh import run_refresh_bench

    figures = run_refresh_bench(
        people=args.people, seed=args.seed, workers=args.workers, reuse=args.reuse, keep=args.keep
    )
    print(key_values(figures))
    return 0 if figures.get("failed") == 0 else 1


def cmd_bench_identity(args: argparse.Namespace) -> int:
    from audience_dagster.bench.identity import run_identity_bench
    from audience_dagster.runtime import prepare_runtime

    prepare_runtime()
    figures = run_identity_bench(
        people=args.people,
        seed=args.seed,
        workers=args.workers,
        reuse=args.reuse,
        keep=args.keep,
        solver_people=args.solver_people,
        drop_sample=args.drop_sample,
        skip_downstream=args.skip_downstream,
    )
    print(key_values(figures))
    return 0


def cmd_bench_scores(args: argparse.Namespace) -> int:
    from audience_dagster.bench.scores import run_scores_bench
    from audience_dagster.runtime import prepare_runtime

    prepare_runtime()
    print(key_values(run_scores_bench(profiles=args.profiles, sample=args.sample, keep=args.keep)))
    return 0


def cmd_bench_segments(args: argparse.Namespace) -> int:
    from audience_dagster.bench.segments import run_segments_bench
    from audience_dagster.runtime import prepare_runtime

    prepare_runtime(parse_dbt=False)
    figures = run_segments_bench(profiles=args.profiles, events_per_profile=args.events_per_profile, keep=args.keep)
    print(key_values(figures))
    return 0


def cmd_identity_merge(args: argparse.Namespace) -> int:
    from audience_dagster.identity.operations import merge_profiles
    from audience_dagster.runtime import prepare_runtime
    from audience_dagster.warehouse.connection import connection

    with connection(prepare_runtime().url) as conn:
        op_id = merge_profiles(conn, args.primary, args.secondary, reason=args.reason, requested_by=args.by)
    print(
        f"merged {args.secondary} into {args.primary} (operation {op_id}); every rebuild re-applies it. "
        "Profiles and events follow at the next `audience refresh`."
    )
    return 0


def cmd_identity_unmerge(args: argparse.Namespace) -> int:
    from audience_dagster.identity.operations import unmerge_identifiers
    from audience_dagster.runtime import prepare_runtime
    from audience_dagster.warehouse.connection import connection

    with connection(prepare_runtime().url) as conn:
        op_id, new_id = unmerge_identifiers(
            conn, args.profile, args.identifier, reason=args.reason, requested_by=args.by
        )
    print(
        f"split {', '.join(args.identifier)} off {args.profile} into {new_id} (operation {op_id}); every rebuild "
        "re-applies it. Profiles and events follow at the next `audience refresh`."
    )
    return 0


def cmd_identity_suggestions(args: argparse.Namespace) -> int:
    from audience_dagster.identity.suggestions import decide_suggestion, list_suggestions
    from audience_dagster.runtime import prepare_runtime
    from audience_dagster.warehouse.connection import connection

    with connection(prepare_runtime(parse_dbt=False).url) as conn:
        if getattr(args, "decision", None):
            accept = args.decision == "accept"
            primary, secondary, op_id = decide_suggestion(conn, args.suggestion_id, accept, args.reason, args.by)
            if accept:
                print(
                    f"suggestion {args.suggestion_id} accepted: merged {secondary} into {primary} (operation {op_id});"
                    " every rebuild re-applies it. Profiles and events follow at the next `audience refresh`."
                )
            else:
                print(f"suggestion {args.suggestion_id} rejected: it will not be suggested again")
            return 0
        rows = list_suggestions(conn, status=args.status, limit=args.limit)
    for row in rows.itertuples(index=False):
        probability = "" if row.match_probability != row.match_probability else f" p={float(row.match_probability):.3f}"
        print(
            f"{row.suggestion_id:>6} {row.kind:<10} {row.status:<8} {row.profile_id_a} {row.profile_id_b}"
            f"{probability} {row.comparisons}"
        )
    print(key_values({"suggestions": len(rows), "status": args.status}))
    return 0


def cmd_eval_duplicates(args: argparse.Namespace) -> int:
    from audience_dagster.bench.eval_duplicates import evaluate_febrl3, evaluate_sample_suggestions

    if args.dataset == "febrl3":
        figures = evaluate_febrl3(args.threshold)
    else:
        figures = evaluate_sample_suggestions(Path(args.sample) if args.sample else None)
    print(key_values(figures))
    return 0


def cmd_eval_identity(args: argparse.Namespace) -> int:
    from audience_dagster.bench.eval_identity import evaluate_identity

    figures = evaluate_identity(Path(args.sample) if args.sample else None)
    print(key_values(figures))
    return 0


def cmd_eval_predictions(args: argparse.Namespace) -> int:
    from audience_dagster.bench.eval_predictions import evaluate_cdnow, evaluate_sample
    from audience_dagster.runtime import prepare_runtime

    prepare_runtime(parse_dbt=args.dataset == "cdnow")
    figures = (
        evaluate_cdnow() if args.dataset == "cdnow" else evaluate_sample(Path(args.sample) if args.sample else None)
    )
    print(key_values(figures))
    return 0


def cmd_bench_predictions(args: argparse.Namespace) -> int:
    from audience_dagster.bench.predictions import run_predictions_bench
    from audience_dagster.runtime import prepare_runtime

    prepare_runtime(parse_dbt=False)
    print(key_values(run_predictions_bench(profiles=args.profiles, keep=args.keep)))
    return 0


def cmd_eval_robustness(args: argparse.Namespace) -> int:
    from audience_dagster.bench.eval_robustness import evaluate_robustness
    from audience_dagster.runtime import prepare_runtime

    prepare_runtime(parse_dbt=False)
    figures = evaluate_robustness(people=args.people, seed=args.seed, keep=args.keep)
    print(key_values(figures))
    return 0 if figures["lost"] == figures["wrong"] == figures["crashed_files"] == 0 and figures["refresh_ok"] else 1


def cmd_eval(args: argparse.Namespace) -> int:
    from audience_dagster.bench.eval_ingest import evaluate_quarantine

    figures = evaluate_quarantine(Path(args.sample) if args.sample else None)
    print(key_values(figures))
    return 0 if figures["missed"] == 0 and figures["unexpected"] == 0 else 1


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
    from audience_dagster.privacy.bench import run_suppression_bench

    figures = run_suppression_bench(
        args.people, args.seed, args.workers, share=args.share, unrelated=args.unrelated, rounds=args.rounds
    )
    print(key_values(figures))
    return 0


def cmd_segments_add_members(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from audience_dagster.runtime import prepare_runtime
    from audience_dagster.segments.warehouse import add_members
    from audience_dagster.warehouse.connection import connection

    warehouse = prepare_runtime(parse_dbt=False)
    expires = datetime.fromisoformat(args.expires_at) if args.expires_at else None
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    with connection(warehouse.url) as conn:
        figures = add_members(
            conn,
            args.slug,
            profile_ids=args.profile_id,
            emails=args.email,
            source=args.source,
            expires_at=expires,
            as_of=load_settings().as_of or datetime.now(UTC),  # the run clock: AUDIENCE_AS_OF, else now
        )
    print(key_values(figures))
    return 0


def cmd_segments_refresh(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from audience_dagster.runtime import prepare_runtime
    from audience_dagster.segments.warehouse import refresh_segments
    from audience_dagster.warehouse.connection import connection

    warehouse = prepare_runtime(parse_dbt=False)
    with connection(warehouse.url) as conn:
        results = refresh_segments(conn, load_settings().as_of or datetime.now(UTC), args.slugs or None)
    for r in results:
        print(r.error or f"{r.slug}: members={r.members} entered={r.entered} exited={r.exited} seconds={r.seconds:.3f}")
    failed = sum(1 for r in results if r.error)
    print(key_values({"segments": len(results), "failed": failed}))
    return 1 if failed else 0


def add_run_options(command: argparse.ArgumentParser, as_of_help: str) -> None:
    """``--as-of``, ``--all``, ``--no-wait``, ``--wait-timeout`` of the commands that run the pipeline."""
    command.add_argument("--as-of", help=as_of_help)
    command.add_argument(
        "--all", dest="rebuild_all", action="store_true", help="rebuild every asset, not only what is out of date"
    )
    command.add_argument(
        "--no-wait", action="store_true", help="stop (exit 3) instead of waiting when another run is in progress"
    )
    command.add_argument("--wait-timeout", type=float, help="stop waiting for another run after this many seconds")


def cmd_serve(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from audience_dagster.collector.keystore import ensure_schema
    from audience_dagster.collector.server import run_server
    from audience_dagster.runtime import prepare_runtime

    settings = load_settings()
    collector = replace(
        settings.collector,
        host=args.host or settings.collector.host,
        port=settings.collector.port if args.port is None else args.port,
    )
    settings = replace(settings, collector=collector)
    warehouse = prepare_runtime(settings, parse_dbt=False)
    ensure_schema(warehouse.url)
    print(
        f"[serve] collector and profile API on http://{collector.host}:{collector.port} "
        f"(spool {collector.spool_dir}, landing {settings.landing_dir})",
        file=sys.stderr,
    )
    run_server(settings, warehouse.url, access_log=not args.no_access_log)
    return 0


def _read_secret(path: str | None) -> str | None:
    if path is None:
        return None
    text = sys.stdin.read() if path == "-" else Path(path).read_text()
    return text.strip() or None


def cmd_keys(args: argparse.Namespace) -> int:
    from audience_dagster.collector import keystore
    from audience_dagster.runtime import prepare_runtime

    url = prepare_runtime(parse_dbt=False).url
    keystore.ensure_schema(url)
    if args.keys == "create":
        created = keystore.create_key(
            url,
            args.kind,
            args.name,
            source=args.source,
            signing_secret=_read_secret(args.secret_file),
            verification_key=args.public_key,
        )
        key = created.key
        collector = load_settings().collector
        base = f"http://{collector.host}:{collector.port}"
        if created.token:
            print(f"[keys] {key.key_id}: shown once, store it now (only its sha256 is kept)", file=sys.stderr)
            print(created.token)
        else:
            print(
                f"[keys] {key.key_id}: point the {key.source} webhook at {base}/v1/webhooks/{key.source}/{key.key_id}"
            )
        return 0
    if args.keys == "revoke":
        key = keystore.revoke_key(url, args.key_id)
        print(
            f"[keys] {key.key_id} ({key.kind}, {key.name}) revoked at {key.revoked_at:%Y-%m-%d %H:%M:%S}Z; "
            "a running server refuses it within AUDIENCE_COLLECTOR_KEY_REFRESH_SECONDS"
        )
        return 0
    for key in keystore.list_keys(url):
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        print(
            f"{key.key_id}  {key.kind:5s}  {key.source or '-':8s}  {key.name:24s}"
            f"  created {key.created_at:%Y-%m-%d %H:%M}  {state}"
        )
    return 0


def cmd_bench_collector(args: argparse.Namespace) -> int:
    from audience_dagster.bench.collector import run_collector_bench

    figures = run_collector_bench(
        clients=args.clients, seconds=args.seconds, batch=args.batch, kill=args.kill, port=args.port
    )
    print(key_values(figures))
    return 0 if figures["lost"] == 0 else 1


def cmd_bench_profile_api(args: argparse.Namespace) -> int:
    from audience_dagster.bench.profile_api import run_profile_api_bench
    from audience_dagster.runtime import prepare_runtime

    prepare_runtime(parse_dbt=False)
    figures = run_profile_api_bench(
        profiles=args.profiles, requests=args.requests, clients=tuple(args.clients), port=args.port, keep=args.keep
    )
    print(key_values(figures))
    return 0


def add_collector_commands(sub: argparse._SubParsersAction, bench_sub: argparse._SubParsersAction) -> None:
    """``audience serve``, ``audience keys create|revoke|list``, ``audience bench collector|profile-api``."""
    serve = sub.add_parser("serve", help="the event collector (Segment API, webhooks) and the profile API")
    serve.add_argument("--host", help="default AUDIENCE_COLLECTOR_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default AUDIENCE_COLLECTOR_PORT or 8088")
    serve.add_argument("--no-access-log", action="store_true", help="no line per request on stderr")
    serve.set_defaults(func=cmd_serve)
    keys = sub.add_parser("keys", help="write keys (per source) and read keys (profile API)")
    keys_sub = keys.add_subparsers(dest="keys", required=True)
    create = keys_sub.add_parser("create", help="create a key; a token is printed once")
    create.add_argument("--kind", choices=("write", "read"), default="write")
    create.add_argument("--source", choices=("segment", "sendgrid", "shopify"), help="what a write key accepts")
    create.add_argument("--name", required=True, help="what uses it: website, ios-app, my-shop …")
    create.add_argument("--secret-file", help="shopify: file holding the app's webhook secret ('-': stdin)")
    create.add_argument("--public-key", help="sendgrid: the Signed Event Webhook's verification key")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    keys_sub.add_parser("list", help="every key (ids, kinds, sources, names; never a token)")
    keys.set_defaults(func=cmd_keys)

    bench_collector = bench_sub.add_parser("collector", help="concurrent SDK-shaped clients posting batches, durable")
    bench_collector.add_argument("--clients", type=int, default=16)
    bench_collector.add_argument("--seconds", type=float, default=20.0)
    bench_collector.add_argument("--batch", type=int, default=100, help="messages per request")
    bench_collector.add_argument("--kill", action="store_true", help="SIGKILL the server mid-load, restart it")
    bench_collector.add_argument("--port", type=int, default=0, help="default: a free port")
    bench_collector.set_defaults(func=cmd_bench_collector)
    bench_profiles = bench_sub.add_parser("profile-api", help="profile lookups by each key over N profiles")
    bench_profiles.add_argument("--profiles", type=int, default=1_000_000)
    bench_profiles.add_argument("--requests", type=int, default=20_000, help="timed requests (each key in turn)")
    bench_profiles.add_argument(
        "--clients", type=int, nargs="+", default=[1, 4], help="concurrent clients, each in turn"
    )
    bench_profiles.add_argument("--port", type=int, default=0, help="default: a free port")
    bench_profiles.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    bench_profiles.set_defaults(func=cmd_bench_profile_api)


def add_segment_commands(sub: argparse._SubParsersAction) -> None:
    """``audience segments add-members|refresh``."""
    segments = sub.add_parser("segments", help="manual segment members and on-demand refreshes")
    segments_sub = segments.add_subparsers(dest="segments", required=True)
    add = segments_sub.add_parser("add-members", help="add profiles to a segment by email or profile id")
    add.add_argument("slug")
    add.add_argument("--email", action="append", default=[])
    add.add_argument("--profile-id", action="append", default=[])
    add.add_argument("--source", choices=["manual", "import"], default="manual")
    add.add_argument("--expires-at", help="ISO time after which a refresh removes them")
    add.set_defaults(func=cmd_segments_add_members)
    refresh = segments_sub.add_parser("refresh", help="refresh segments now (default: every active auto-refresh one)")
    refresh.add_argument("slugs", nargs="*")
    refresh.set_defaults(func=cmd_segments_refresh)


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="audience", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a simulated population's landing files + truth")
    gen.add_argument("--people", type=int, help="people to simulate (default 20,000; --messy: 300)")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--out", required=True, help="folder for landing/ and truth/")
    gen.add_argument(
        "--end",
        type=date.fromisoformat,
        default=None,
        help="last day of observed data (default: yesterday, UTC; the holdout follows it)",
    )
    gen.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    gen.add_argument(
        "--messy",
        action="store_true",
        help="the adversarial identity sample instead (junk in every field, shared devices, alias chains, "
        "phone and email variants; --people base people)",
    )
    gen.set_defaults(func=cmd_generate)

    demo = sub.add_parser("demo", help="generate a sample, build every asset as of the sample's end, summarise")
    demo.add_argument("--people", type=int, default=20_000)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    demo.add_argument("--fresh", action="store_true", help="regenerate the sample")
    add_run_options(demo, as_of_help="the run's clock (default: the end of the sample's data)")
    demo.set_defaults(func=cmd_demo)

    refresh = sub.add_parser("refresh", help="load new landing files, rebuild what is out of date")
    add_run_options(refresh, as_of_help="the run's clock, ISO 8601 (default: AUDIENCE_AS_OF, else now)")
    refresh.set_defaults(func=cmd_refresh)

    ui = sub.add_parser("ui", help="start `dagster dev` on the same instance and warehouse")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)

    imp = sub.add_parser("import-orders", help="import historical orders from CSV file(s)")
    imp.add_argument("files", nargs="+")
    imp.set_defaults(func=cmd_import_orders)

    bench = sub.add_parser("bench", help="benchmarks (figures, never pass/fail)")
    bench_sub = bench.add_subparsers(dest="bench", required=True)
    bench_ingest = bench_sub.add_parser("ingest", help="generation and ingest throughput")
    bench_ingest.add_argument("--people", type=int, default=100_000)
    bench_ingest.add_argument("--seed", type=int, default=7)
    bench_ingest.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    bench_ingest.add_argument(
        "--reuse", action="store_true", help="reuse an existing generated sample (no generation figure)"
    )
    bench_ingest.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    bench_ingest.set_defaults(func=cmd_bench)

    bench_refresh = bench_sub.add_parser("refresh", help="a full refresh, then a refresh with nothing new")
    bench_refresh.add_argument("--people", type=int, default=20_000)
    bench_refresh.add_argument("--seed", type=int, default=7)
    bench_refresh.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    bench_refresh.add_argument("--reuse", action="store_true", help="reuse an existing generated sample")
    bench_refresh.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    bench_refresh.set_defaults(func=cmd_bench_refresh)

    bench_identity = bench_sub.add_parser(
        "identity", help="identity solver on ~5M edges; warehouse identity rebuild and profile build"
    )
    bench_identity.add_argument("--people", type=int, default=1_000_000)
    bench_identity.add_argument("--seed", type=int, default=7)
    bench_identity.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    bench_identity.add_argument("--solver-people", type=int, default=2_100_000, help="synthetic graph size")
    bench_identity.add_argument("--reuse", action="store_true", help="reuse an existing generated sample")
    bench_identity.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    bench_identity.add_argument("--drop-sample", action="store_true", help="delete the sample once ingested (disk)")
    bench_identity.add_argument(
        "--skip-downstream", action="store_true", help="stop after the identity rebuilds (no events/profiles build)"
    )
    bench_identity.set_defaults(func=cmd_bench_identity)

    bench_scores = bench_sub.add_parser("scores", help="every score for N profiles, set-based vs row-at-a-time")
    bench_scores.add_argument("--profiles", type=int, default=1_000_000)
    bench_scores.add_argument("--sample", type=int, default=2_000, help="profiles timed row-at-a-time")
    bench_scores.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    bench_scores.set_defaults(func=cmd_bench_scores)

    bench_predictions = bench_sub.add_parser("predictions", help="train and score every prediction for N profiles")
    bench_predictions.add_argument("--profiles", type=int, default=1_000_000)
    bench_predictions.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    bench_predictions.set_defaults(func=cmd_bench_predictions)

    bench_segments = bench_sub.add_parser("segments", help="refresh every shipped segment over N profiles")
    bench_segments.add_argument("--profiles", type=int, default=1_000_000)
    bench_segments.add_argument("--events-per-profile", type=int, default=25, help="events topped up to N per profile")
    bench_segments.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    bench_segments.set_defaults(func=cmd_bench_segments)

    ident = sub.add_parser("identity", help="manual identity decisions, re-applied by every rebuild")
    ident_sub = ident.add_subparsers(dest="identity", required=True)
    merge = ident_sub.add_parser("merge", help="merge SECONDARY into PRIMARY (PRIMARY keeps its id)")
    merge.add_argument("primary")
    merge.add_argument("secondary")
    merge.add_argument("--reason", required=True)
    merge.add_argument("--by", default=os.environ.get("USER", "unknown"), help="who decided (default: $USER)")
    merge.set_defaults(func=cmd_identity_merge)
    unmerge = ident_sub.add_parser("unmerge", help="split identifiers off PROFILE into a new profile")
    unmerge.add_argument("profile")
    unmerge.add_argument(
        "--identifier", action="append", required=True, help="type:value, e.g. email:kid@example.com (repeatable)"
    )
    unmerge.add_argument("--reason", required=True)
    unmerge.add_argument("--by", default=os.environ.get("USER", "unknown"), help="who decided (default: $USER)")
    unmerge.set_defaults(func=cmd_identity_unmerge)
    suggestions = ident_sub.add_parser(
        "suggestions", help="possible duplicate profiles (over-limit links, fuzzy matches): list, accept, reject"
    )
    suggestions.add_argument("--status", choices=("open", "accepted", "rejected", "all"), default="open")
    suggestions.add_argument("--limit", type=int, default=50)
    suggestions.set_defaults(func=cmd_identity_suggestions, decision=None)
    decide = suggestions.add_subparsers(dest="decision")
    for name, help_text in (("accept", "merge the pair (recorded as a manual merge)"), ("reject", "never again")):
        decision = decide.add_parser(name, help=help_text)
        decision.add_argument("suggestion_id", type=int)
        decision.add_argument("--reason", default=f"suggestion {name}ed")
        decision.add_argument("--by", default=os.environ.get("USER", "unknown"), help="who decided (default: $USER)")
        decision.set_defaults(func=cmd_identity_suggestions)

    ev = sub.add_parser("eval", help="evaluations against the generator's ground truth")
    ev_sub = ev.add_subparsers(dest="eval", required=True)
    ev_ingest = ev_sub.add_parser("ingest", help="quarantine vs. the malformed records injected")
    ev_ingest.add_argument("--sample", help="sample folder (default: the demo sample)")
    ev_ingest.set_defaults(func=cmd_eval)
    ev_identity = ev_sub.add_parser("identity", help="identity map vs. the true person behind every identifier")
    ev_identity.add_argument("--sample", help="sample folder (default: the demo sample)")
    ev_identity.set_defaults(func=cmd_eval_identity)
    ev_duplicates = ev_sub.add_parser(
        "duplicates", help="fuzzy duplicate detection vs. labelled pairs (FEBRL3) or the sample's truth"
    )
    ev_duplicates.add_argument("--dataset", choices=("febrl3", "sample"), default="febrl3")
    ev_duplicates.add_argument("--threshold", type=float, help="match probability (default: the setting)")
    ev_duplicates.add_argument("--sample", help="sample folder (default: the demo sample)")
    ev_duplicates.set_defaults(func=cmd_eval_duplicates)
    ev_predictions = ev_sub.add_parser(
        "predictions", help="churn, next purchase, LTV, upgrade vs. purchases after the cutoff, beside BTYD"
    )
    ev_predictions.add_argument("--dataset", choices=("sample", "cdnow"), default="sample")
    ev_predictions.add_argument("--sample", help="sample folder (default: the demo sample)")
    ev_predictions.set_defaults(func=cmd_eval_predictions)
    ev_robust = ev_sub.add_parser(
        "robustness", help="hostile corpus + corrupt files beside a small sample: the whole refresh, twice"
    )
    ev_robust.add_argument("--people", type=int, default=300)
    ev_robust.add_argument("--seed", type=int, default=11)
    ev_robust.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    ev_robust.set_defaults(func=cmd_eval_robustness)
    add_privacy_commands(sub)
    add_segment_commands(sub)
    add_collector_commands(sub, bench_sub)
    add_activation_commands(sub, bench_sub, ev_sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except RunInProgressError as exc:
        print(f"audience: {exc}", file=sys.stderr)
        return 3
    except AudienceError as exc:
        print(f"audience: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""``audience bench …`` and ``audience eval …``: benchmarks and evaluations (figures, never
pass/fail), each ending with one ``key=value`` line on stdout. Each runs in a scratch database
(:mod:`.database`), never the demo warehouse."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from audience_dagster.console import key_values


def cmd_bench_ingest(args: argparse.Namespace) -> int:
    from audience_dagster.bench.ingest import run_ingest_bench

    figures = run_ingest_bench(
        people=args.people, seed=args.seed, workers=args.workers, reuse=args.reuse, keep=args.keep
    )
    print(key_values(figures))
    return 0


def cmd_bench_refresh(args: argparse.Namespace) -> int:
    from audience_dagster.bench.refresh import run_refresh_bench

    figures = run_refresh_bench(
        people=args.people,
        seed=args.seed,
        workers=args.workers,
        reuse=args.reuse,
        keep=args.keep,
        increments=args.increments,
        share=args.share,
        training_cron=args.training_cron,
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


def cmd_bench_predictions(args: argparse.Namespace) -> int:
    from audience_dagster.bench.predictions import run_predictions_bench
    from audience_dagster.runtime import prepare_runtime

    prepare_runtime(parse_dbt=False)
    print(key_values(run_predictions_bench(profiles=args.profiles, keep=args.keep)))
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


def cmd_eval(args: argparse.Namespace) -> int:
    from audience_dagster.bench.eval_ingest import evaluate_quarantine

    figures = evaluate_quarantine(Path(args.sample) if args.sample else None)
    print(key_values(figures))
    return 0 if figures["missed"] == 0 and figures["unexpected"] == 0 else 1


def cmd_eval_identity(args: argparse.Namespace) -> int:
    from audience_dagster.bench.eval_identity import evaluate_identity

    figures = evaluate_identity(Path(args.sample) if args.sample else None)
    print(key_values(figures))
    return 0


def cmd_eval_duplicates(args: argparse.Namespace) -> int:
    from audience_dagster.bench.eval_duplicates import evaluate_febrl3, evaluate_sample_suggestions

    if args.dataset == "febrl3":
        figures = evaluate_febrl3(args.threshold)
    else:
        figures = evaluate_sample_suggestions(Path(args.sample) if args.sample else None)
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


def cmd_eval_robustness(args: argparse.Namespace) -> int:
    from audience_dagster.bench.eval_robustness import evaluate_robustness
    from audience_dagster.runtime import prepare_runtime

    prepare_runtime(parse_dbt=False)
    figures = evaluate_robustness(people=args.people, seed=args.seed, keep=args.keep)
    print(key_values(figures))
    return 0 if figures["lost"] == figures["wrong"] == figures["crashed_files"] == 0 and figures["refresh_ok"] else 1


def add_bench_commands(
    sub: argparse._SubParsersAction,
) -> tuple[argparse._SubParsersAction, argparse._SubParsersAction]:
    """``audience bench ingest|refresh|identity|scores|predictions|segments|collector|profile-api``
    and ``audience eval ingest|identity|duplicates|predictions|robustness``; the ``bench`` and
    ``eval`` subparsers, for the capabilities that add their own (activation)."""
    return _add_bench_parsers(sub), _add_eval_parsers(sub)


def _sample_arguments(parser: argparse.ArgumentParser, people: int, reuse_help: str | None = None) -> None:
    """The options of a bench that generates a sample of ``people`` and loads it into a scratch
    database: --people, --seed, --workers, --reuse (with ``reuse_help``, else none) and --keep."""
    parser.add_argument("--people", type=int, default=people)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    if reuse_help:
        parser.add_argument("--reuse", action="store_true", help=reuse_help)
    _keep_argument(parser)


def _keep_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")


def _add_bench_refresh_parser(bench_sub: argparse._SubParsersAction) -> None:
    bench_refresh = bench_sub.add_parser(
        "refresh", help="a full build, a refresh with nothing new, then refreshes that each add ~1%% new events"
    )
    _sample_arguments(bench_refresh, 200_000, "reuse an existing generated sample")
    bench_refresh.add_argument("--increments", type=int, default=3, help="refreshes with new files after the no-op")
    bench_refresh.add_argument(
        "--share", type=float, default=0.01, help="the share of all events each increment adds (default 0.01)"
    )
    bench_refresh.add_argument(
        "--training-cron",
        default=None,
        help="AUDIENCE_TRAINING_CRON for the refreshes (default: yearly, one day before the base ends, so the"
        " increments measure refreshes between training ticks)",
    )
    bench_refresh.set_defaults(func=cmd_bench_refresh)


def _add_bench_parsers(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    bench = sub.add_parser("bench", help="benchmarks (figures, never pass/fail)")
    bench_sub = bench.add_subparsers(dest="bench", required=True)
    bench_ingest = bench_sub.add_parser("ingest", help="generation and ingest throughput")
    _sample_arguments(bench_ingest, 100_000, "reuse an existing generated sample (no generation figure)")
    bench_ingest.set_defaults(func=cmd_bench_ingest)

    _add_bench_refresh_parser(bench_sub)

    bench_identity = bench_sub.add_parser(
        "identity", help="identity solver on ~5M edges; warehouse identity rebuild and profile build"
    )
    _sample_arguments(bench_identity, 1_000_000, "reuse an existing generated sample")
    bench_identity.add_argument("--solver-people", type=int, default=2_100_000, help="synthetic graph size")
    bench_identity.add_argument("--drop-sample", action="store_true", help="delete the sample once ingested (disk)")
    bench_identity.add_argument(
        "--skip-downstream", action="store_true", help="stop after the identity rebuilds (no events/profiles build)"
    )
    bench_identity.set_defaults(func=cmd_bench_identity)

    bench_scores = bench_sub.add_parser("scores", help="every score for N profiles, set-based vs row-at-a-time")
    bench_scores.add_argument("--profiles", type=int, default=1_000_000)
    bench_scores.add_argument("--sample", type=int, default=2_000, help="profiles timed row-at-a-time")
    _keep_argument(bench_scores)
    bench_scores.set_defaults(func=cmd_bench_scores)

    bench_predictions = bench_sub.add_parser("predictions", help="train and score every prediction for N profiles")
    bench_predictions.add_argument("--profiles", type=int, default=1_000_000)
    _keep_argument(bench_predictions)
    bench_predictions.set_defaults(func=cmd_bench_predictions)

    bench_segments = bench_sub.add_parser("segments", help="refresh every shipped segment over N profiles")
    bench_segments.add_argument("--profiles", type=int, default=1_000_000)
    bench_segments.add_argument("--events-per-profile", type=int, default=25, help="events topped up to N per profile")
    _keep_argument(bench_segments)
    bench_segments.set_defaults(func=cmd_bench_segments)

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
    _keep_argument(bench_profiles)
    bench_profiles.set_defaults(func=cmd_bench_profile_api)
    return bench_sub


def _add_eval_parsers(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
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
    _keep_argument(ev_robust)
    ev_robust.set_defaults(func=cmd_eval_robustness)
    return ev_sub

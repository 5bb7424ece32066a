"""``audience generate``: a simulated population's landing files and their ground truth."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

from audience_dagster.console import key_values, progress


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
        args.people, args.seed, Path(args.out), end=args.end, workers=args.workers, progress=progress("generate")
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


def add_sample_commands(sub: argparse._SubParsersAction) -> None:
    """``audience generate``."""
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

"""Command line: ``python -m audience_dagster.sample_data --people 100000 --out /tmp/sample``.

Prints progress and the figures of the run (records per source, duplicates, malformed lines,
seconds), so it doubles as the generator's benchmark.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from audience_dagster.sample_data.generator import generate
from audience_dagster.sample_data.params import default_end


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audience_dagster.sample_data", description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="output directory (landing/ and truth/)")
    parser.add_argument(
        "--end", type=date.fromisoformat, default=None, help="last day of observed data (default: yesterday, UTC)"
    )
    parser.add_argument("--history-days", type=int, default=540)
    parser.add_argument("--holdout-days", type=int, default=365)
    parser.add_argument("--malformed-rate", type=float, default=0.0002)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    began = time.perf_counter()

    def progress(done: int, total: int) -> None:
        print(f"{time.perf_counter() - began:8.1f}s  chunk {done}/{total}", file=sys.stderr, flush=True)

    report = generate(
        args.people,
        args.seed,
        args.out,
        end=args.end or default_end(),
        history_days=args.history_days,
        holdout_days=args.holdout_days,
        malformed_rate=args.malformed_rate,
        workers=args.workers,
        progress=progress,
    )
    print(f"{'source':<24}{'records':>12}{'per person':>12}{'duplicates':>12}{'malformed':>11}")
    for source, count in report.counts.items():
        print(
            f"{source:<24}{count:>12,}{count / report.people:>12.2f}"
            f"{report.duplicates[source]:>12,}{report.malformed[source]:>11,}"
        )
    print(f"{'events (4 sources)':<24}{report.events:>12,}{report.events / report.people:>12.2f}")
    print(f"{report.people:,} people in {report.seconds:.1f} s with {args.workers} worker(s) → {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

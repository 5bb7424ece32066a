"""``audience``: the command line for what a person runs by hand.

Each capability registers its own subcommands (``add_<capability>_commands`` in its ``cli.py``).
Long work reports progress on stderr; ``eval`` and ``bench`` commands end with one line of
``key=value`` pairs on stdout for scripts.
"""

from __future__ import annotations

import argparse
import sys

from audience_dagster.activation.cli import add_activation_commands
from audience_dagster.bench.cli import add_bench_commands
from audience_dagster.collector.cli import add_collector_commands
from audience_dagster.errors import AudienceError, RunInProgressError
from audience_dagster.identity.cli import add_identity_commands
from audience_dagster.privacy.cli import add_privacy_commands
from audience_dagster.runs.cli import add_run_commands
from audience_dagster.sample_data.cli import add_sample_commands
from audience_dagster.segments.cli import add_segment_commands
from audience_dagster.warehouse.cli import add_db_commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="audience", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    add_sample_commands(sub)
    add_run_commands(sub)
    bench_sub, eval_sub = add_bench_commands(sub)
    add_identity_commands(sub)
    add_privacy_commands(sub)
    add_segment_commands(sub)
    add_collector_commands(sub)
    add_db_commands(sub)
    add_activation_commands(sub, bench_sub, eval_sub)
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

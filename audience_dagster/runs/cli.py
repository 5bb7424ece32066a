"""``audience demo|refresh|ui|import-orders``: the commands that run the pipeline (:mod:`.commands`)."""

from __future__ import annotations

import argparse
import os

from audience_dagster.runs.commands import cmd_demo, cmd_import_orders, cmd_refresh, cmd_ui


def add_run_options(command: argparse.ArgumentParser, as_of_help: str) -> None:
    """``--as-of``, ``--full`` (alias ``--all``), ``--no-wait``, ``--wait-timeout`` of the commands
    that run the pipeline."""
    command.add_argument("--as-of", help=as_of_help)
    command.add_argument(
        "--full",
        "--all",
        dest="rebuild_all",
        action="store_true",
        help="full rebuild: after loading new files, rebuild every asset (job audience_full_rebuild), not only"
        " what is out of date (--all is the same)",
    )
    command.add_argument(
        "--no-wait", action="store_true", help="stop (exit 3) instead of waiting when another run is in progress"
    )
    command.add_argument("--wait-timeout", type=float, help="stop waiting for another run after this many seconds")


def add_run_commands(sub: argparse._SubParsersAction) -> None:
    """``audience demo``, ``refresh``, ``ui`` and ``import-orders``."""
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

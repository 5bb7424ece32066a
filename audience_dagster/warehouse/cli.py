"""``audience db status|upgrade``: each capability's schema version, and the upgrade to the latest."""

from __future__ import annotations

import argparse

from audience_dagster.warehouse.migrations import CapabilityStatus


def status_table(statuses: list[CapabilityStatus]) -> str:
    """One line per capability: applied version, latest shipped version, state."""
    lines = [f"{'capability':<12} {'version':>7} {'latest':>6}  state"]
    for status in statuses:
        baseline = any(applied.baseline for applied in status.applied.values())
        adopted = " (adopted from a release before migrations)" if baseline else ""
        lines.append(f"{status.capability.name:<12} {status.version:>7} {status.latest:>6}  {status.state}{adopted}")
    return "\n".join(lines)


def cmd_db(args: argparse.Namespace) -> int:
    from audience_dagster.config import load_settings
    from audience_dagster.warehouse.connection import bootstrap, connection, resolve_warehouse
    from audience_dagster.warehouse.schema import schema_status

    url = resolve_warehouse(load_settings()).url
    if args.db == "status":
        with connection(url) as conn:
            statuses = schema_status(conn)
        print(status_table(statuses))
        pending = sum(len(s.pending) for s in statuses)
        print(f"capabilities={len(statuses)} pending={pending} edited={sum(len(s.edited) for s in statuses)}")
        return 0
    applied = bootstrap(url, accept_edited=args.accept_edited)
    for migration in applied:
        print(f"[db] applied {migration.where}")
    with connection(url) as conn:
        statuses = schema_status(conn)
    print(status_table(statuses))
    print(f"applied={len(applied)} pending={sum(len(s.pending) for s in statuses)}")
    return 0


def add_db_commands(sub: argparse._SubParsersAction) -> None:
    """``audience db status``, ``audience db upgrade [--accept-edited]``."""
    db = sub.add_parser("db", help="the warehouse schema: each capability's version; upgrade in place")
    db_sub = db.add_subparsers(dest="db", required=True)
    db_sub.add_parser("status", help="each capability's applied and latest version (changes nothing)")
    upgrade = db_sub.add_parser("upgrade", help="apply every pending migration (safe to run at any time)")
    upgrade.add_argument(
        "--accept-edited",
        action="store_true",
        help="record the new checksum of applied files edited without effect on the database (a comment)",
    )
    db.set_defaults(func=cmd_db)

"""``audience segments add-members|refresh``: manual members and on-demand refreshes."""

from __future__ import annotations

import argparse

from audience_dagster.config import load_settings
from audience_dagster.console import key_values


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

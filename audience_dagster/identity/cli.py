"""``audience identity merge|unmerge|suggestions``: manual identity decisions, re-applied by every
rebuild (docs/identity.md)."""

from __future__ import annotations

import argparse
import getpass

from audience_dagster.console import key_values


def _who() -> str:
    """Who decides, by default: the login name (``$USER``), else ``unknown``."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


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


def add_identity_commands(sub: argparse._SubParsersAction) -> None:
    """``audience identity merge``, ``unmerge`` and ``suggestions [accept|reject ID]``."""
    ident = sub.add_parser("identity", help="manual identity decisions, re-applied by every rebuild")
    ident_sub = ident.add_subparsers(dest="identity", required=True)
    merge = ident_sub.add_parser("merge", help="merge SECONDARY into PRIMARY (PRIMARY keeps its id)")
    merge.add_argument("primary")
    merge.add_argument("secondary")
    merge.add_argument("--reason", required=True)
    merge.add_argument("--by", default=_who(), help="who decided (default: $USER)")
    merge.set_defaults(func=cmd_identity_merge)
    unmerge = ident_sub.add_parser("unmerge", help="split identifiers off PROFILE into a new profile")
    unmerge.add_argument("profile")
    unmerge.add_argument(
        "--identifier", action="append", required=True, help="type:value, e.g. email:kid@example.com (repeatable)"
    )
    unmerge.add_argument("--reason", required=True)
    unmerge.add_argument("--by", default=_who(), help="who decided (default: $USER)")
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
        decision.add_argument("--by", default=_who(), help="who decided (default: $USER)")
        decision.set_defaults(func=cmd_identity_suggestions)

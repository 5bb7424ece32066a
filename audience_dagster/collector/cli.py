"""``audience serve`` and ``audience keys``: the collector and profile API, and their keys
(docs/collector.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from audience_dagster.config import load_settings


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


def add_collector_commands(sub: argparse._SubParsersAction) -> None:
    """``audience serve`` and ``audience keys create|revoke|list``."""
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

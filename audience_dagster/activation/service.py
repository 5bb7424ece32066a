"""Destinations end to end: senders built from definitions and settings, every destination
synced, and the status table (the CLI and the Dagster assets call these)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg2.extensions

from audience_dagster.activation.delivery import Retry
from audience_dagster.activation.destinations_yaml import DestinationDefinition, load_destinations
from audience_dagster.activation.senders import FileSender, MailchimpSender, Sender, WebhookSender, mailchimp_root
from audience_dagster.activation.sync import SyncResult, run_sync, sync_definitions
from audience_dagster.config import ActivationSettings
from audience_dagster.errors import ActivationError


def _secret(definition: DestinationDefinition, settings: ActivationSettings) -> str:
    name = definition.secret_name
    value = settings.secrets.get(name or "")
    if not value:
        raise ActivationError(
            f"destination {definition.slug!r}: set AUDIENCE_ACTIVATION_SECRET_{name} (its secret: {definition.kind})"
        )
    return value


def build_sender(definition: DestinationDefinition, settings: ActivationSettings) -> Sender:
    """The sender of a destination (:class:`ActivationError` when its secret is not set)."""
    retry = Retry(settings.max_attempts, settings.backoff_seconds, settings.timeout_seconds)
    s = definition.settings
    if definition.kind == "file":
        return FileSender(settings.output_dir / definition.slug, tuple(s.get("formats", ("csv", "jsonl"))))
    if definition.kind == "webhook":
        return WebhookSender(str(s["url"]), _secret(definition, settings), retry)
    key = _secret(definition, settings)
    root = mailchimp_root(key, s.get("base_url") or settings.mailchimp_base_url)
    return MailchimpSender(root, str(s["list_id"]), str(s["segment_id"]), key, retry)


def batch_size(definition: DestinationDefinition, settings: ActivationSettings) -> int:
    return int(definition.settings.get("batch_size") or settings.batch_size)


@dataclass(frozen=True)
class SyncOutcome:
    destination: str
    result: SyncResult | None
    error: str | None = None


def sync_destinations(
    conn: psycopg2.extensions.connection,
    settings: ActivationSettings,
    as_of: datetime,
    slugs: list[str] | None = None,
) -> list[SyncOutcome]:
    """Sync the YAML definitions in, then every active destination (or those named). A destination
    that cannot sync (missing secret, unknown segment) fails alone: its error is returned."""
    definitions = load_destinations(settings.destinations_dir)
    sync_definitions(conn, definitions)
    known = {d.slug: d for d in definitions}
    unknown = sorted(set(slugs or ()) - set(known))
    if unknown:
        raise ActivationError(f"no destination {', '.join(unknown)} in {settings.destinations_dir}")
    chosen = [known[s] for s in slugs] if slugs else [d for d in definitions if d.status == "active"]
    outcomes = []
    for definition in chosen:
        try:
            _segment_exists(conn, definition)
            sender = build_sender(definition, settings)
            result = run_sync(conn, definition, sender, as_of, batch_size(definition, settings))
            outcomes.append(SyncOutcome(definition.slug, result))
        except ActivationError as exc:
            conn.rollback()
            outcomes.append(SyncOutcome(definition.slug, None, str(exc)))
    return outcomes


def _segment_exists(conn: psycopg2.extensions.connection, definition: DestinationDefinition) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM marts.micro_segments WHERE slug = %s", (definition.segment,))
        found = cur.fetchone() is not None
    if not found:
        raise ActivationError(
            f"destination {definition.slug!r}: segment {definition.segment!r} is not in marts.micro_segments"
        )


STATUS = """
SELECT d.slug, d.kind, d.segment_slug, d.status, count(m.profile_id) FILTER (WHERE m.erased_at IS NULL) AS held,
       s.id AS last_sync, s.status AS sync_status, s.next_batch, s.batches, s.sent, s.failed,
       (SELECT count(*) FROM activation.dead_letters AS l WHERE l.destination_id = d.id) AS dead_letters,
       d.last_synced_at, d.last_error
FROM activation.destinations AS d
LEFT JOIN activation.destination_members AS m ON m.destination_id = d.id
LEFT JOIN LATERAL (SELECT * FROM activation.destination_syncs AS x WHERE x.destination_id = d.id
                   ORDER BY x.id DESC LIMIT 1) AS s ON true
GROUP BY d.id, s.id, s.status, s.next_batch, s.batches, s.sent, s.failed
ORDER BY d.slug
"""


def destination_status(conn: psycopg2.extensions.connection) -> tuple[list[str], list[tuple]]:
    with conn.cursor() as cur:
        cur.execute(STATUS)
        return [c.name for c in cur.description], cur.fetchall()

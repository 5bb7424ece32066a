"""Sync a destination: plan the diff once, deliver it batch by batch, resume after a crash.

1. :func:`open_sync`: a sync still ``sending`` (a crash, a kill) is resumed from its cursor
   (``next_batch``); otherwise the diff is planned into the outbox (:mod:`.outbox`) and committed.
2. Each batch from the cursor on is sent (same idempotency key as any earlier try). Delivered:
   in one transaction the destination's members are updated (entered rows in, exited and removed
   rows out, rejected keys left out) and the cursor moves past it. Not delivered after its
   retries: the batch goes to ``activation.dead_letters`` and the cursor moves on; its changes
   are not recorded as held, so the next sync plans them again.
3. Done: the sync is closed, its outbox rows deleted, a file destination writes its snapshot.

A crash between a delivery and its commit re-sends that batch with the same key: at least once,
never a gap; a receiver that honours the key sees each change once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg2.extensions
import psycopg2.extras

from audience_dagster.activation.delivery import DeliveryFailed
from audience_dagster.activation.destinations_yaml import DestinationDefinition
from audience_dagster.activation.outbox import SNAPSHOT, compile_plan
from audience_dagster.activation.senders import Batch, Sender, idempotency_key
from audience_dagster.errors import ActivationError


@dataclass(frozen=True)
class SyncResult:
    destination: str
    sync_id: int
    resumed: bool
    entered: int
    exited: int
    removed: int
    skipped_no_consent: int
    batches: int
    sent: int
    failed: int
    dead_letters: int
    seconds: float


def sync_definitions(conn: psycopg2.extensions.connection, definitions: list[DestinationDefinition]) -> None:
    """Upsert the YAML definitions by slug (rows added in the table alone are left alone)."""
    with conn.cursor() as cur:
        for d in definitions:
            cur.execute(
                """INSERT INTO activation.destinations (slug, name, segment_slug, kind, settings, status, managed_by)
                VALUES (%s, %s, %s, %s, %s, %s, 'yaml')
                ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, segment_slug = EXCLUDED.segment_slug,
                    kind = EXCLUDED.kind, settings = EXCLUDED.settings, status = EXCLUDED.status,
                    managed_by = 'yaml', updated_at = now()""",
                (d.slug, d.name, d.segment, d.kind, json.dumps(d.settings), d.status),
            )
    conn.commit()


def destination_id(conn: psycopg2.extensions.connection, slug: str) -> str:
    with conn.cursor() as cur:
        cur.execute("SELECT id::text FROM activation.destinations WHERE slug = %s", (slug,))
        row = cur.fetchone()
    if row is None:
        raise ActivationError(f"destination {slug!r} is not in activation.destinations; sync the YAML files first")
    return row[0]


def open_sync(
    conn: psycopg2.extensions.connection, definition: DestinationDefinition, as_of: datetime, batch_size: int
) -> tuple[dict[str, Any], bool]:
    """The open sync of the destination (resumed) or a newly planned one; committed."""
    dest_id = destination_id(conn, definition.slug)
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('activation:' || %s))", (definition.slug,))
        cur.execute(
            "SELECT * FROM activation.destination_syncs WHERE destination_id = %s AND status = 'sending'", (dest_id,)
        )
        open_row = cur.fetchone()
        if open_row is not None:
            conn.commit()
            return dict(open_row), True
        cur.execute(
            "INSERT INTO activation.destination_syncs (destination_id, batches) VALUES (%s, 0) RETURNING id", (dest_id,)
        )
        sync_id = cur.fetchone()["id"]
        plan, skipped = compile_plan(definition.kind)
        params = {
            "segment": definition.segment,
            "as_of": as_of,
            "destination_id": dest_id,
            "batch_size": batch_size,
            "sync_id": sync_id,
        }
        cur.execute(plan, params)
        cur.execute(skipped, params)
        skipped_count = cur.fetchone()["skipped"]
        cur.execute(
            """UPDATE activation.destination_syncs AS s SET
                   batches = coalesce(o.batches, 0), entered = coalesce(o.entered, 0),
                   exited = coalesce(o.exited, 0), removed = coalesce(o.removed, 0), skipped_no_consent = %s
               FROM (SELECT max(batch_no) + 1 AS batches,
                            count(*) FILTER (WHERE change = 'entered') AS entered,
                            count(*) FILTER (WHERE change = 'exited') AS exited,
                            count(*) FILTER (WHERE change = 'removed') AS removed
                     FROM activation.destination_outbox WHERE sync_id = %s) AS o
               WHERE s.id = %s RETURNING s.*""",
            (skipped_count, sync_id, sync_id),
        )
        row = dict(cur.fetchone())
    conn.commit()
    return row, False


def _batch_changes(cur, sync_id: int, batch_no: int) -> list[dict[str, Any]]:
    cur.execute(
        "SELECT payload FROM activation.destination_outbox WHERE sync_id = %s AND batch_no = %s"
        " ORDER BY change, profile_id",
        (sync_id, batch_no),
    )
    return [row[0] for row in cur.fetchall()]


APPLY = """
WITH batch AS (
    SELECT change, profile_id, subscriber_key FROM activation.destination_outbox
    WHERE sync_id = %(sync_id)s AND batch_no = %(batch_no)s
), gone AS (
    DELETE FROM activation.destination_members AS d USING batch AS b
    WHERE d.destination_id = %(destination_id)s AND d.profile_id = b.profile_id AND b.change IN ('exited', 'removed')
)
INSERT INTO activation.destination_members (destination_id, profile_id, subscriber_key, sent_at)
SELECT %(destination_id)s, profile_id, subscriber_key, now() FROM batch
WHERE change = 'entered' AND NOT subscriber_key = ANY(%(rejected)s)
ON CONFLICT (destination_id, profile_id) DO UPDATE SET subscriber_key = EXCLUDED.subscriber_key, sent_at = now()
"""


def _deliver(cur, sync: dict[str, Any], batch: Batch, sender: Sender) -> tuple[int, int, bool]:
    """Send one batch and record the outcome (uncommitted): (sent, failed, dead-lettered)."""
    params = {"sync_id": sync["id"], "batch_no": batch.batch_no, "destination_id": sync["destination_id"]}
    try:
        rejected = sender.send(batch)
    except DeliveryFailed as exc:
        cur.execute(
            """INSERT INTO activation.dead_letters (destination_id, sync_id, batch_no, idempotency_key, attempts,
                   last_status, error, changes, payload) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                sync["destination_id"], sync["id"], batch.batch_no, batch.idempotency_key, exc.attempts,
                exc.status, str(exc), len(batch.changes), json.dumps(batch.document(), default=str),
            ),
        )  # fmt: skip
        return 0, len(batch.changes), True
    cur.execute(APPLY, {**params, "rejected": sorted(rejected)})
    return len(batch.changes) - len(rejected), len(rejected), False


def run_sync(
    conn: psycopg2.extensions.connection,
    definition: DestinationDefinition,
    sender: Sender,
    as_of: datetime,
    batch_size: int,
    after_send: Callable[[Batch], None] | None = None,
) -> SyncResult:
    """Plan (or resume) and deliver one sync of ``definition``. ``after_send`` runs after each
    delivery and before its commit (tests inject a crash there)."""
    started = time.perf_counter()
    sync, resumed = open_sync(conn, definition, as_of, batch_size)
    dead = 0
    with conn.cursor() as cur:
        for batch_no in range(sync["next_batch"], sync["batches"]):
            batch = Batch(
                destination=definition.slug,
                segment=definition.segment,
                sync_id=sync["id"],
                batch_no=batch_no,
                batches=sync["batches"],
                idempotency_key=idempotency_key(definition.slug, sync["id"], batch_no),
                changes=_batch_changes(cur, sync["id"], batch_no),
            )
            sent, failed, dead_lettered = _deliver(cur, sync, batch, sender)
            if after_send is not None:
                after_send(batch)
            dead += dead_lettered
            cur.execute(
                "UPDATE activation.destination_syncs SET next_batch = %s, sent = sent + %s, failed = failed + %s"
                " WHERE id = %s",
                (batch_no + 1, sent, failed, sync["id"]),
            )
            conn.commit()
        snapshot: list[dict[str, Any]] = []
        if sender.wants_snapshot:
            cur.execute(SNAPSHOT, {"destination_id": sync["destination_id"]})
            names = [c.name for c in cur.description]
            snapshot = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        sender.finish(sync["id"], snapshot)
        cur.execute("DELETE FROM activation.destination_outbox WHERE sync_id = %s", (sync["id"],))
        cur.execute(
            "UPDATE activation.destination_syncs SET status = 'done', finished_at = now() WHERE id = %s"
            " RETURNING sent, failed",
            (sync["id"],),
        )
        sent_total, failed_total = cur.fetchone()
        cur.execute("SELECT count(*) FROM activation.dead_letters WHERE sync_id = %s", (sync["id"],))
        dead = cur.fetchone()[0]
        cur.execute(
            "UPDATE activation.destinations SET last_synced_at = now(), last_error = %s WHERE id = %s",
            (f"{dead} batch(es) dead-lettered" if dead else None, sync["destination_id"]),
        )
    conn.commit()
    return SyncResult(
        destination=definition.slug,
        sync_id=sync["id"],
        resumed=resumed,
        entered=sync["entered"],
        exited=sync["exited"],
        removed=sync["removed"],
        skipped_no_consent=sync["skipped_no_consent"],
        batches=sync["batches"],
        sent=sent_total,
        failed=failed_total,
        dead_letters=dead,
        seconds=time.perf_counter() - started,
    )

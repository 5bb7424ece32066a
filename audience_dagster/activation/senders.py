"""Destination kinds: how one batch of changes reaches a destination (pure: no database).

A :class:`Batch` is one slice of a sync's planned diff: changes ``entered`` (with the person's
email, names and a few traits), ``exited`` and ``removed`` (an erasure: only ids). A sender
delivers it or raises :class:`~audience_dagster.activation.delivery.DeliveryFailed`; it returns
the subscriber keys the destination rejected (they are not recorded as held).

* ``file``: ``<output>/<slug>/sync-<id>/diff-<batch>.{csv,jsonl}`` (written to a temporary name,
  then renamed: a re-sent batch replaces its file) and, at the end of a sync, the snapshot of who
  the destination holds as ``snapshot.{csv,jsonl}`` (in the sync's folder and the latest at the top);
* ``webhook``: the batch as one JSON POST with ``Idempotency-Key`` (the same for a re-sent batch)
  and the HMAC ``X-Audience-Signature`` (:mod:`~audience_dagster.activation.delivery`);
* ``mailchimp``: Mailchimp Marketing API v3 — the entered people upserted into the audience
  (``POST /lists/{list_id}``, ``members`` with ``status_if_new: subscribed``, ``update_existing``),
  then the static segment's batch add/remove (``POST /lists/{list_id}/segments/{segment_id}``,
  ``members_to_add`` / ``members_to_remove``, ≤ 500 each); an exit with no email left is removed by
  subscriber hash (``DELETE …/segments/{segment_id}/members/{hash}``), an erasure deletes the member
  permanently (``POST /lists/{list_id}/members/{hash}/actions/delete-permanent``). HTTP Basic auth
  with the API key; the API root is ``https://<dc>.api.mailchimp.com/3.0`` from the key's ``-<dc>``
  suffix unless a base URL is set.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from audience_dagster.activation.delivery import DeliveryFailed, Retry, send_json
from audience_dagster.errors import ActivationError

CSV_COLUMNS = ("type", "profile_id", "subscriber_key", "email", "first_name", "last_name", "score", "joined_at")


@dataclass(frozen=True)
class Batch:
    destination: str
    segment: str
    sync_id: int
    batch_no: int
    batches: int
    idempotency_key: str
    changes: list[dict[str, Any]]

    def document(self) -> dict[str, Any]:
        """The webhook body."""
        return {
            "destination": self.destination,
            "segment": self.segment,
            "sync_id": self.sync_id,
            "batch": self.batch_no + 1,
            "batches": self.batches,
            "idempotency_key": self.idempotency_key,
            "changes": self.changes,
        }


class Sender(Protocol):
    wants_snapshot: bool  # finish() gets who the destination holds (else an empty list)

    def send(self, batch: Batch) -> set[str]: ...

    def finish(self, sync_id: int, snapshot: list[dict[str, Any]]) -> None: ...


def idempotency_key(destination: str, sync_id: int, batch_no: int) -> str:
    """The same key for the same batch of the same sync, whoever sends it and how often."""
    return hashlib.sha256(f"{destination}\0{sync_id}\0{batch_no}".encode()).hexdigest()[:32]


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, default=str, sort_keys=True) + "\n" for row in rows)


@dataclass(frozen=True)
class FileSender:
    folder: Path  # <output>/<slug>
    formats: tuple[str, ...] = ("csv", "jsonl")
    wants_snapshot = True

    def _write(self, stem: Path, rows: list[dict[str, Any]]) -> None:
        for fmt in self.formats:
            _write_atomic(stem.with_name(f"{stem.name}.{fmt}"), _csv(rows) if fmt == "csv" else _jsonl(rows))

    def send(self, batch: Batch) -> set[str]:
        self._write(self.folder / f"sync-{batch.sync_id:06d}" / f"diff-{batch.batch_no + 1:05d}", batch.changes)
        return set()

    def finish(self, sync_id: int, snapshot: list[dict[str, Any]]) -> None:
        self._write(self.folder / f"sync-{sync_id:06d}" / "snapshot", snapshot)
        self._write(self.folder / "snapshot", snapshot)


@dataclass(frozen=True)
class WebhookSender:
    url: str
    secret: str
    retry: Retry
    wants_snapshot = False

    def send(self, batch: Batch) -> set[str]:
        headers = {"Idempotency-Key": batch.idempotency_key}
        send_json("POST", self.url, batch.document(), self.retry, headers, self.secret)
        return set()

    def finish(self, sync_id: int, snapshot: list[dict[str, Any]]) -> None:
        return None


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: the MD5 of the lower-case email."""
    return hashlib.md5(email.strip().lower().encode()).hexdigest()  # noqa: S324 - Mailchimp's documented id


def mailchimp_root(api_key: str, base_url: str | None) -> str:
    if base_url:
        return base_url.rstrip("/")
    if "-" not in api_key:
        raise ActivationError("the Mailchimp API key has no '-<dc>' suffix; set AUDIENCE_ACTIVATION_MAILCHIMP_BASE_URL")
    return f"https://{api_key.rsplit('-', 1)[1]}.api.mailchimp.com/3.0"


@dataclass(frozen=True)
class MailchimpSender:
    root: str
    list_id: str
    segment_id: str
    api_key: str
    retry: Retry
    wants_snapshot = False

    def _call(self, method: str, path: str, document: object, missing_ok: bool = False) -> dict[str, Any]:
        token = base64.b64encode(f"audience:{self.api_key}".encode()).decode()
        try:
            answer = send_json(method, self.root + path, document, self.retry, {"Authorization": f"Basic {token}"})
        except DeliveryFailed as exc:
            if missing_ok and exc.status == 404:
                return {}
            raise
        parsed = answer.json() if answer.body else {}
        return parsed if isinstance(parsed, dict) else {}

    def send(self, batch: Batch) -> set[str]:
        entered = [c for c in batch.changes if c["type"] == "entered"]
        exited = [c for c in batch.changes if c["type"] == "exited"]
        rejected: set[str] = set()
        if entered:
            members = [
                {
                    "email_address": c["email"],
                    "status_if_new": "subscribed",
                    "merge_fields": {"FNAME": c.get("first_name") or "", "LNAME": c.get("last_name") or ""},
                }
                for c in entered
            ]
            answer = self._call("POST", f"/lists/{self.list_id}", {"members": members, "update_existing": True})
            rejected = {subscriber_hash(e["email_address"]) for e in answer.get("errors", []) if e.get("email_address")}
        add = [c["email"] for c in entered if subscriber_hash(c["email"]) not in rejected]
        remove = [c["email"] for c in exited if c.get("email")]
        if add or remove:
            self._call(
                "POST",
                f"/lists/{self.list_id}/segments/{self.segment_id}",
                {"members_to_add": add, "members_to_remove": remove},
            )
        for change in exited:
            if not change.get("email"):
                path = f"/lists/{self.list_id}/segments/{self.segment_id}/members/{change['subscriber_key']}"
                self._call("DELETE", path, None, missing_ok=True)
        for change in batch.changes:
            if change["type"] == "removed":
                path = f"/lists/{self.list_id}/members/{change['subscriber_key']}/actions/delete-permanent"
                self._call("POST", path, None, missing_ok=True)
        return rejected

    def finish(self, sync_id: int, snapshot: list[dict[str, Any]]) -> None:
        return None

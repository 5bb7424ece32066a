"""The collector's tables and its keys in the warehouse: ``ensure_schema``, create / revoke / list.

Used by ``audience keys …`` (psycopg2, like the rest of the CLI) and, for the key ring, by the
server (any DB-API cursor: the server's psycopg 3 pool). A token is shown once, at creation;
the table keeps its sha256 only (see :mod:`audience_dagster.collector.auth`).
"""

from __future__ import annotations

from dataclasses import dataclass

from audience_dagster.collector import schema
from audience_dagster.collector.auth import (
    SOURCES,
    WEBHOOK_SOURCES,
    ApiKey,
    new_key_id,
    new_token,
    token_sha256,
)
from audience_dagster.collector.signatures import load_sendgrid_public_key
from audience_dagster.errors import CollectorError
from audience_dagster.warehouse.connection import connection

KEY_COLUMNS = "key_id, kind, source, name, token_sha256, signing_secret, verification_key, created_at, revoked_at"
ACTIVE_KEYS = f"SELECT {KEY_COLUMNS} FROM collector.api_keys WHERE revoked_at IS NULL"


def ensure_schema(url: str) -> None:
    """Migrate the collector's schema to its latest version (:mod:`.schema`, idempotent)."""
    with connection(url) as conn:
        schema.ensure_schema(conn)


def key_from_row(row: tuple) -> ApiKey:
    key_id, kind, source, name, digest, secret, public_key, created_at, revoked_at = row
    return ApiKey(
        key_id=key_id,
        kind=kind,
        source=source,
        name=name,
        token_sha256=bytes(digest) if digest is not None else None,
        signing_secret=secret,
        verification_key=public_key,
        created_at=created_at,
        revoked_at=revoked_at,
    )


@dataclass(frozen=True)
class CreatedKey:
    """A new key; ``token`` is shown to the person once and never stored."""

    key: ApiKey
    token: str | None


def create_key(
    url: str,
    kind: str,
    name: str,
    *,
    source: str | None = None,
    signing_secret: str | None = None,
    verification_key: str | None = None,
) -> CreatedKey:
    """Create a key. Write keys name their source; webhook keys carry what checks the signature
    (Shopify: the shared secret; SendGrid: the public verification key) and get no token."""
    source, token = _check_new_key(kind, name, source, signing_secret, verification_key)
    key = ApiKey(
        key_id=new_key_id(),
        kind=kind,
        source=source,
        name=name.strip(),
        token_sha256=token_sha256(token) if token else None,
        signing_secret=signing_secret.strip() if signing_secret else None,
        verification_key=verification_key.strip() if verification_key else None,
    )
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO collector.api_keys (key_id, kind, source, name, token_sha256, signing_secret,"
            " verification_key) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING created_at",
            (key.key_id, kind, source, key.name, key.token_sha256, key.signing_secret, key.verification_key),
        )
        created_at = cur.fetchone()[0]
    return CreatedKey(ApiKey(**{**key.__dict__, "created_at": created_at}), token)


def _check_new_key(
    kind: str, name: str, source: str | None, secret: str | None, public_key: str | None
) -> tuple[str | None, str | None]:
    """(source, token) of a valid new key; :class:`CollectorError` saying what is missing."""
    if not name.strip():
        raise CollectorError("a key needs a --name saying what uses it (e.g. website, ios-app, my-shop)")
    if kind == "read":
        if source or secret or public_key:
            raise CollectorError("a read key (profile API) takes no --source, secret or public key")
        return None, new_token("read")
    if kind != "write":
        raise CollectorError(f"unknown key kind {kind!r}: use write or read")
    if source not in SOURCES:
        raise CollectorError(f"a write key needs --source, one of {', '.join(SOURCES)}")
    if source == "shopify" and not (secret and secret.strip()):
        raise CollectorError("a Shopify key needs the app's webhook secret (--secret-file): it checks the HMAC")
    if source == "sendgrid":
        if not public_key:
            raise CollectorError("a SendGrid key needs the Event Webhook's verification key (--public-key)")
        load_sendgrid_public_key(public_key)  # fails now, not at the first webhook
    if source not in WEBHOOK_SOURCES and (secret or public_key):
        raise CollectorError("only sendgrid and shopify keys take a secret or public key")
    return source, (None if source in WEBHOOK_SOURCES else new_token("write"))


def revoke_key(url: str, key_id: str) -> ApiKey:
    """Revoke a key (kept, marked revoked); the server stops accepting it within its key refresh."""
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(
            f"UPDATE collector.api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE key_id = %s"
            f" RETURNING {KEY_COLUMNS}",
            (key_id,),
        )
        row = cur.fetchone()
    if row is None:
        raise CollectorError(f"no key {key_id!r}; `audience keys list` shows the key ids")
    return key_from_row(row)


def list_keys(url: str) -> list[ApiKey]:
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT {KEY_COLUMNS} FROM collector.api_keys ORDER BY created_at, key_id")
        return [key_from_row(row) for row in cur.fetchall()]

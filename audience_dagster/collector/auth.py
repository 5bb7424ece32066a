"""API keys as the server sees them: token format, hashing, the credentials of a request, and
the in-memory key ring it checks them against. Pure: no database, no Dagster.

A token is ``aw_…`` (write) or ``ar_…`` (read) followed by 32 random bytes in URL-safe
base64: safe in a URL, an HTTP Basic user name and a JSON body. Only its sha256 is stored; a
fast hash is enough for a secret with 256 bits of entropy (nobody can guess one to brute-force
the hash), which is why no password-stretching hash is used. A request's token is hashed and
looked up, then compared with :func:`hmac.compare_digest`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

WRITE_PREFIX = "aw_"
READ_PREFIX = "ar_"
SOURCES = ("segment", "sendgrid", "shopify")
WEBHOOK_SOURCES = ("sendgrid", "shopify")
_TOKEN = re.compile(r"a[wr]_[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class ApiKey:
    """One key as stored (no token: only its hash)."""

    key_id: str
    kind: str  # 'write' | 'read'
    source: str | None  # segment | sendgrid | shopify; None for read keys
    name: str
    token_sha256: bytes | None = None
    signing_secret: str | None = None  # Shopify: the app's shared secret
    verification_key: str | None = None  # SendGrid: the public key (base64 DER)
    created_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def new_token(kind: str) -> str:
    """A fresh random token for a ``write`` or ``read`` key."""
    prefix = {"write": WRITE_PREFIX, "read": READ_PREFIX}[kind]
    return prefix + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def new_key_id() -> str:
    """A public identifier for a key (shown in lists, logs and webhook URLs; not a secret)."""
    return "k_" + secrets.token_hex(6)


def token_sha256(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def looks_like_token(token: str) -> bool:
    return _TOKEN.fullmatch(token) is not None


def basic_auth_user(header: str | None) -> str | None:
    """The user name of an ``Authorization: Basic …`` header (Segment: the write key), else None."""
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0] or None


def bearer_token(header: str | None) -> str | None:
    """The token of ``Authorization: Bearer …`` or, as Segment's keys, the Basic user name."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    return basic_auth_user(header)


class KeyRing:
    """The active keys, indexed for lookups: by token hash (bearer keys) and by key id (webhooks)."""

    def __init__(self, keys: Iterable[ApiKey] = ()) -> None:
        active = [k for k in keys if k.active]
        self._by_hash: Mapping[bytes, ApiKey] = {k.token_sha256: k for k in active if k.token_sha256}
        self._by_id: Mapping[str, ApiKey] = {k.key_id: k for k in active}

    def __len__(self) -> int:
        return len(self._by_id)

    def with_key(self, key: ApiKey) -> KeyRing:
        """A ring that also holds ``key`` (found in the table after the last reload)."""
        return KeyRing([*self._by_id.values(), key])

    def authenticate(self, token: str | None, kind: str) -> ApiKey | None:
        """The active key of ``kind`` that ``token`` belongs to, or None."""
        if not token or not looks_like_token(token):
            return None
        digest = token_sha256(token)
        key = self._by_hash.get(digest)
        if key is None or key.token_sha256 is None or not hmac.compare_digest(key.token_sha256, digest):
            return None
        return key if key.kind == kind else None

    def webhook(self, key_id: str, source: str) -> ApiKey | None:
        """The active webhook key ``key_id`` of ``source`` (from the URL), or None."""
        key = self._by_id.get(key_id)
        return key if key is not None and key.kind == "write" and key.source == source else None

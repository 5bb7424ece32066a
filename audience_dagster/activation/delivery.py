"""HTTP delivery: one JSON request, signed, retried with exponential backoff (pure; no database).

A response of 2xx is delivered. 429 and 5xx, timeouts and refused connections are retried after
``backoff * 2**attempt`` seconds (or the server's ``Retry-After``, capped at 60 s), up to
``max_attempts`` tries; any other status fails at once (a bad request does not get better).
:class:`DeliveryFailed` carries the last status and error for the dead-letter row.

Signatures follow the Stripe/Svix convention: ``X-Audience-Signature: t=<unix seconds>,v1=<hex
HMAC-SHA256 of "<t>.<body>">``, so a receiver can reject replays older than a few minutes and
compare in constant time (:func:`verify_signature`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 60.0


class DeliveryFailed(Exception):
    """A request that was not delivered after its attempts (or failed permanently)."""

    def __init__(self, message: str, status: int | None, attempts: int) -> None:
        super().__init__(message)
        self.status = status
        self.attempts = attempts


@dataclass(frozen=True)
class Retry:
    max_attempts: int = 5
    backoff_seconds: float = 1.0
    timeout_seconds: float = 10.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait after failed try ``attempt`` (0-based)."""
        if retry_after:
            try:
                return min(MAX_RETRY_AFTER, max(0.0, float(retry_after)))
            except ValueError:
                pass
        return min(MAX_RETRY_AFTER, self.backoff_seconds * 2**attempt)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, body: bytes, header: str, now: float, tolerance: float = 300.0) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and is at most ``tolerance`` s old."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), header)


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self) -> object:
        return json.loads(self.body or b"null")


def send_json(
    method: str,
    url: str,
    document: object,
    retry: Retry,
    headers: dict[str, str] | None = None,
    secret: str | None = None,
) -> Response:
    """Send ``document`` as JSON (``None``: no body) until a 2xx (returned) or
    :class:`DeliveryFailed`. With a ``secret`` each try is signed afresh (its own timestamp)."""
    body = b"" if document is None else json.dumps(document, separators=(",", ":"), default=str).encode()
    status: int | None = None
    error = ""
    for attempt in range(retry.max_attempts):
        request = urllib.request.Request(url, data=body or None, method=method)
        request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        if secret is not None:
            request.add_header("X-Audience-Signature", sign(secret, body, int(time.time())))
        retry_after = None
        try:
            with urllib.request.urlopen(request, timeout=retry.timeout_seconds) as answer:
                return Response(answer.status, answer.read())
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code}: {exc.read()[:200].decode(errors='replace')}"
            retry_after = exc.headers.get("Retry-After")
            if exc.code not in RETRYABLE:
                raise DeliveryFailed(f"{url}: {error} (not retried)", status, attempt + 1) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            status, error = None, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        if attempt + 1 < retry.max_attempts:
            retry.sleep(retry.delay(attempt, retry_after))
    raise DeliveryFailed(f"{url}: {error} after {retry.max_attempts} attempts", status, retry.max_attempts)

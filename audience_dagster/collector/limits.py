"""Request limits and body decoding: Segment's sizes and answers, gzip without gzip bombs. Pure.

Segment's HTTP Tracking API answers ``400 Bad Request`` when a batch is over 500 KB or one
message is over 32 KB (its SDKs split batches to stay under: analytics-node at 480 KB), and for
invalid JSON; everything else in a well-formed request is answered ``200`` and judged per
message downstream (here: by ingest, which quarantines a bad message with its reason).
"""

from __future__ import annotations

import zlib

from audience_dagster.errors import CollectorError

KB = 1024
MAX_MESSAGE_BYTES = 32 * KB
MAX_BATCH_BYTES = 500 * KB
# webhooks: SendGrid posts up to a few thousand events, Shopify one order (with its line items)
MAX_WEBHOOK_BYTES = 5 * KB * KB


class RequestRejected(CollectorError):
    """A request the collector answers with an error (``status``) and stores nothing of."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, object]:
        """The JSON answer (Segment's SDKs read ``code`` and ``message`` from it)."""
        return {"success": False, "code": self.code, "message": self.message}


def too_large(what: str, size: int | None, limit: int) -> RequestRejected:
    shown = f"{size:,} bytes" if size is not None else "more"
    return RequestRejected(
        400, "too_large", f"{what} is {shown}, over the limit of {limit // KB} KB; send smaller batches"
    )


def decode_body(raw: bytes, content_encoding: str | None, limit: int) -> bytes:
    """The request body after its ``Content-Encoding`` (identity or gzip), at most ``limit`` bytes.

    Decompression stops at ``limit + 1`` bytes, so a small gzip bomb costs no memory.
    """
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        body = raw
    elif encoding in ("gzip", "x-gzip"):
        body = _gunzip(raw, limit)
    else:
        raise RequestRejected(400, "unsupported_encoding", f"Content-Encoding {encoding!r}: send gzip or nothing")
    if len(body) > limit:
        raise too_large("the request body", len(body) if len(body) <= limit * 4 else None, limit)
    return body


def _gunzip(raw: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise RequestRejected(400, "invalid_gzip", f"the body is not valid gzip: {exc}") from exc
    if len(body) > limit:
        raise too_large("the decompressed body", None, limit)
    if not inflater.eof:
        raise RequestRejected(400, "invalid_gzip", "the gzip body is truncated")
    return body

"""Webhook signatures, checked over the raw request body exactly as received. Pure.

* **SendGrid** (Signed Event Webhook): ECDSA P-256 with SHA-256 over ``timestamp + body``; the
  signature (base64 DER) is in ``X-Twilio-Email-Event-Webhook-Signature``, the timestamp in
  ``X-Twilio-Email-Event-Webhook-Timestamp``; the public key SendGrid shows under Mail Settings
  is base64 DER (SubjectPublicKeyInfo), with or without PEM armour.
* **Shopify**: ``X-Shopify-Hmac-Sha256`` is the base64 HMAC-SHA256 of the body with the app's
  shared secret; compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from audience_dagster.errors import CollectorError

SENDGRID_SIGNATURE_HEADER = "x-twilio-email-event-webhook-signature"
SENDGRID_TIMESTAMP_HEADER = "x-twilio-email-event-webhook-timestamp"
SHOPIFY_HMAC_HEADER = "x-shopify-hmac-sha256"


@lru_cache(maxsize=64)
def load_sendgrid_public_key(text: str) -> ec.EllipticCurvePublicKey:
    """The EC public key from SendGrid's verification key text; :class:`CollectorError` if it is not one."""
    body = "".join(line for line in text.strip().splitlines() if not line.startswith("-----"))
    try:
        key = load_der_public_key(base64.b64decode(body, validate=True))
    except (ValueError, binascii.Error, TypeError) as exc:
        raise CollectorError(
            "the SendGrid verification key is not a base64 public key; copy it from SendGrid's "
            "Mail Settings → Signed Event Webhook Requests"
        ) from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise CollectorError("the SendGrid verification key is not an elliptic-curve (ECDSA) public key")
    return key


def sendgrid_signature_valid(public_key: str, body: bytes, signature: str | None, timestamp: str | None) -> bool:
    """True when ``signature`` is SendGrid's ECDSA signature of ``timestamp + body``."""
    if not signature or not timestamp:
        return False
    try:
        key = load_sendgrid_public_key(public_key)
        key.verify(base64.b64decode(signature, validate=True), timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, CollectorError, binascii.Error, ValueError):
        return False
    return True


def shopify_hmac(secret: str, body: bytes) -> str:
    """The value Shopify puts in ``X-Shopify-Hmac-Sha256`` for ``body``."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    if not header:
        return False
    return hmac.compare_digest(shopify_hmac(secret, body).encode(), header.strip().encode())

"""Keys (tokens, hashing, the key ring) and webhook signatures (SendGrid's published example)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from audience_dagster.collector.auth import (
    ApiKey,
    KeyRing,
    basic_auth_user,
    bearer_token,
    looks_like_token,
    new_token,
    token_sha256,
)
from audience_dagster.collector.signatures import (
    load_sendgrid_public_key,
    sendgrid_signature_valid,
    shopify_hmac,
    shopify_signature_valid,
)
from audience_dagster.errors import CollectorError

# SendGrid's own verification example (their SDKs' test of the Signed Event Webhook)
SENDGRID_PUBLIC_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpV"  # noqa: ISC003
    "KS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
)
SENDGRID_SIGNATURE = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM="
SENDGRID_TIMESTAMP = "1600112502"
SENDGRID_PAYLOAD = (
    json.dumps(
        [
            {
                "email": "hello@world.com",
                "event": "dropped",
                "reason": "Bounced Address",
                "sg_event_id": "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",
                "sg_message_id": "LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",
                "smtp-id": "<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>",
                "timestamp": 1600112492,
            }
        ],
        sort_keys=True,
        separators=(",", ":"),
    )
    + "\r\n"
).encode()


def test_sendgrid_published_example_verifies_and_any_change_does_not() -> None:
    assert sendgrid_signature_valid(SENDGRID_PUBLIC_KEY, SENDGRID_PAYLOAD, SENDGRID_SIGNATURE, SENDGRID_TIMESTAMP)
    assert not sendgrid_signature_valid(
        SENDGRID_PUBLIC_KEY, SENDGRID_PAYLOAD[:-2], SENDGRID_SIGNATURE, SENDGRID_TIMESTAMP
    )
    assert not sendgrid_signature_valid(SENDGRID_PUBLIC_KEY, SENDGRID_PAYLOAD, SENDGRID_SIGNATURE, "1600112503")
    assert not sendgrid_signature_valid(
        SENDGRID_PUBLIC_KEY, SENDGRID_PAYLOAD, "bm90IGEgc2lnbmF0dXJl", SENDGRID_TIMESTAMP
    )
    assert not sendgrid_signature_valid(SENDGRID_PUBLIC_KEY, SENDGRID_PAYLOAD, "%%%", SENDGRID_TIMESTAMP)
    assert not sendgrid_signature_valid(SENDGRID_PUBLIC_KEY, SENDGRID_PAYLOAD, None, SENDGRID_TIMESTAMP)
    other = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )
    assert not sendgrid_signature_valid(
        base64.b64encode(other).decode(), SENDGRID_PAYLOAD, SENDGRID_SIGNATURE, SENDGRID_TIMESTAMP
    )


def test_sendgrid_keys_in_pem_armour_load_and_junk_is_refused() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    body, timestamp = b'[{"event":"open"}]', "1700000000"
    signature = base64.b64encode(private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
    assert sendgrid_signature_valid(pem, body, signature, timestamp)
    with pytest.raises(CollectorError, match="not a base64 public key"):
        load_sendgrid_public_key("hello")


def test_shopify_hmac_is_base64_sha256_of_the_raw_body() -> None:
    body = b'{"id":820982911946154508,"email":"jon@example.com"}'
    # computed independently: printf '%s' "$body" | openssl dgst -sha256 -hmac hush -binary | base64
    assert shopify_hmac("hush", body) == "D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6/QLMo8="
    assert shopify_signature_valid("hush", body, shopify_hmac("hush", body))
    assert not shopify_signature_valid("hush", body + b" ", shopify_hmac("hush", body))
    assert not shopify_signature_valid("other", body, shopify_hmac("hush", body))
    assert not shopify_signature_valid("hush", body, None)


def test_tokens_are_random_url_safe_and_hashed() -> None:
    write, read = new_token("write"), new_token("read")
    assert write.startswith("aw_") and read.startswith("ar_") and looks_like_token(write) and looks_like_token(read)
    assert write != new_token("write") and len(token_sha256(write)) == 32
    assert not looks_like_token(write + "x") and not looks_like_token("aw_" + "!" * 43)


def test_authorization_headers() -> None:
    basic = "Basic " + base64.b64encode(b"aw_key:").decode()
    assert basic_auth_user(basic) == "aw_key" == bearer_token(basic)
    assert bearer_token("Bearer ar_token") == "ar_token"
    for junk in (None, "", "Basic %%%", "Basic " + base64.b64encode(b":pw").decode(), "Digest x"):
        assert basic_auth_user(junk) is None


def test_key_ring_checks_kind_revocation_and_webhook_source() -> None:
    write, read = new_token("write"), new_token("read")
    now = datetime.now(UTC)
    ring = KeyRing(
        [
            ApiKey("k_w", "write", "segment", "site", token_sha256(write)),
            ApiKey("k_r", "read", None, "personalization", token_sha256(read)),
            ApiKey("k_old", "write", "segment", "old", token_sha256(token := new_token("write")), revoked_at=now),
            ApiKey("k_shop", "write", "shopify", "shop", signing_secret="s"),
        ]
    )
    assert ring.authenticate(write, "write").key_id == "k_w"
    assert ring.authenticate(write, "read") is None  # a write key reads nothing
    assert ring.authenticate(read, "read").key_id == "k_r"
    assert ring.authenticate(token, "write") is None  # revoked
    assert ring.authenticate(new_token("write"), "write") is None
    assert ring.webhook("k_shop", "shopify").key_id == "k_shop"
    assert ring.webhook("k_shop", "sendgrid") is None and ring.webhook("k_w", "shopify") is None
    assert len(ring) == 3


@pytest.mark.parametrize(
    ("kind", "source", "secret", "public_key", "message"),
    [
        ("write", None, None, None, "needs --source"),
        ("write", "shopify", None, None, "webhook secret"),
        ("write", "sendgrid", None, None, "verification key"),
        ("write", "sendgrid", None, "not-a-key", "not a base64 public key"),
        ("write", "segment", "s", None, "only sendgrid and shopify"),
        ("read", "segment", None, None, "takes no --source"),
        ("admin", None, None, None, "unknown key kind"),
    ],
)
def test_a_key_missing_what_it_needs_is_refused_before_anything_is_stored(
    kind, source, secret, public_key, message
) -> None:
    from audience_dagster.collector.keystore import create_key

    with pytest.raises(CollectorError, match=message):
        create_key(
            "postgresql://nobody@/nowhere",
            kind,
            "name",
            source=source,
            signing_secret=secret,
            verification_key=public_key,
        )

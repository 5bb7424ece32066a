"""A real `audience serve` on a loopback port, over the test database, with keys of every kind."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from audience_dagster.collector.keystore import create_key, ensure_schema
from audience_dagster.collector.process import ServerProcess
from audience_dagster.collector.signatures import shopify_hmac
from audience_dagster.warehouse.connection import bootstrap, connection

SHOPIFY_SECRET = "shpss_test_secret_0123456789"


@dataclass
class Keys:
    write: str
    read: str
    write_id: str
    sendgrid_id: str
    sendgrid_private: ec.EllipticCurvePrivateKey
    shopify_id: str

    def sendgrid_headers(self, body: bytes, timestamp: str = "1767225600") -> dict[str, str]:
        signature = self.sendgrid_private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
            "Content-Type": "application/json",
        }

    @staticmethod
    def shopify_headers(body: bytes, topic: str = "orders/create") -> dict[str, str]:
        return {
            "X-Shopify-Hmac-Sha256": shopify_hmac(SHOPIFY_SECRET, body),
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": "test-shop.myshopify.com",
            "Content-Type": "application/json",
        }


@dataclass
class Collector:
    server: ServerProcess
    keys: Keys
    url: str  # the warehouse
    landing: Path
    log: Path

    @property
    def base(self) -> str:
        return self.server.base_url

    def post(self, path: str, body: bytes, **kwargs) -> requests.Response:
        return requests.post(self.base + path, data=body, timeout=30, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.base + path, timeout=30, **kwargs)

    def restart(self) -> None:
        self.server.start()


def make_keys(url: str) -> Keys:
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    write = create_key(url, "write", "website", source="segment")
    read = create_key(url, "read", "personalization")
    sendgrid = create_key(url, "write", "email", source="sendgrid", verification_key=base64.b64encode(public).decode())
    shopify = create_key(url, "write", "shop", source="shopify", signing_secret=SHOPIFY_SECRET)
    assert write.token and read.token
    return Keys(write.token, read.token, write.key.key_id, sendgrid.key.key_id, private, shopify.key.key_id)


def fresh_warehouse(url: str) -> Path:
    """Empty raw/identity/marts/collector schemas and an empty landing folder (the session's)."""
    with connection(url) as conn, conn.cursor() as cur:
        for schema in ("raw", "staging", "intermediate", "identity", "marts", "collector", "privacy"):
            cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    bootstrap(url)
    ensure_schema(url)
    landing = Path(os.environ["AUDIENCE_LANDING_DIR"])
    shutil.rmtree(landing, ignore_errors=True)
    landing.mkdir(parents=True)
    return landing


def start_collector(url: str, tmp: Path, **env: str) -> Collector:
    landing = fresh_warehouse(url)
    keys = make_keys(url)
    log = tmp / "serve.log"
    server = ServerProcess(
        {"AUDIENCE_COLLECTOR_KEY_REFRESH_SECONDS": "1", "AUDIENCE_COLLECTOR_ROTATE_SECONDS": "3600", **env},
        log_path=log,
    )
    return Collector(server.start(), keys, url, landing, log)


def clean_landing() -> None:
    """Remove what the collector published: the landing folder is the session's, and the next
    test module's refresh must load only its own files."""
    shutil.rmtree(Path(os.environ["AUDIENCE_LANDING_DIR"]), ignore_errors=True)


@pytest.fixture(scope="module")
def collector(warehouse_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collector]:
    running = start_collector(warehouse_url, tmp_path_factory.mktemp("collector"))
    try:
        yield running
    finally:
        running.server.stop()
        clean_landing()

"""The ASGI application: Segment's tracking API, the SendGrid and Shopify webhooks, the profile API.

Starlette (already installed with the Dagster webserver, which runs on it): plain routing and
responses over ASGI with little per-request overhead, and no request-model layer a collector
does not need (FastAPI's validation would parse every body a second time); uvicorn with
httptools and uvloop serves it. See docs/collector.md.

Routes:

* ``POST /v1/{track,page,screen,identify,alias,group,batch}``, the analytics.js short forms
  ``/v1/{t,p,s,i,a,g,b}`` and ``/v1/import``: write key as the HTTP Basic user (or ``writeKey``
  in the body); gzip bodies; CORS for browsers;
* ``POST /v1/webhooks/sendgrid/{key_id}``, ``POST /v1/webhooks/shopify/{key_id}``: the key's
  public key / secret checks the signature;
* ``GET /v1/profiles/{profile_id}`` and ``GET /v1/profiles?email=…|user_id=…|anonymous_id=…``:
  read key as ``Authorization: Bearer``; ``fields=``;
* ``GET /health``.

The access log holds method, route template, status, duration, key id and message count:
never a client address, a query string or a path parameter (identifiers are personal data).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from audience_dagster.collector.auth import ApiKey, basic_auth_user, bearer_token
from audience_dagster.collector.limits import MAX_WEBHOOK_BYTES, RequestRejected, decode_body, too_large
from audience_dagster.collector.payloads import SEGMENT_CALLS, SpoolBatch, body_limit, segment_batch, webhook_events
from audience_dagster.collector.profiles import LOOKUPS, parse_request
from audience_dagster.collector.service import CollectorService
from audience_dagster.collector.signatures import (
    SENDGRID_SIGNATURE_HEADER,
    SENDGRID_TIMESTAMP_HEADER,
    SHOPIFY_HMAC_HEADER,
    sendgrid_signature_valid,
    shopify_signature_valid,
)
from audience_dagster.config import CollectorSettings
from audience_dagster.errors import CollectorError

access_log = logging.getLogger("audience.collector.access")
SUCCESS = b'{"success":true}'
LOG_SCOPE = "audience.log"
SHOPIFY_ORDER_TOPICS = ("orders/create", "orders/updated")


def received_at_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _note(request: Request, route: str, **fields: object) -> None:
    """What the access log line of this request says (set by the endpoint)."""
    entry = request.scope.get(LOG_SCOPE)
    if entry is not None:
        entry.update(route=route, **fields)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing (400) anything over ``limit`` before reading it all."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large("the request body", int(declared), limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large("the request body", None, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def rejected(error: RequestRejected) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


async def _spool(service: CollectorService, source: str, batch: SpoolBatch) -> Response:
    try:
        await service.spool[source].append(batch.lines, batch.messages)
    except CollectorError as exc:  # disk full, shutting down: not stored, the client retries
        return rejected(RequestRejected(503, "unavailable", str(exc)))
    return Response(SUCCESS, media_type="application/json")


def _sendgrid_verified(key: ApiKey, raw: bytes, headers: Headers) -> bool:
    signature, timestamp = headers.get(SENDGRID_SIGNATURE_HEADER), headers.get(SENDGRID_TIMESTAMP_HEADER)
    return sendgrid_signature_valid(key.verification_key or "", raw, signature, timestamp)


def _shopify_verified(key: ApiKey, raw: bytes, headers: Headers) -> bool:
    return shopify_signature_valid(key.signing_secret or "", raw, headers.get(SHOPIFY_HMAC_HEADER))


# source -> (signature check, body is a JSON array of events, what a 401 says)
WEBHOOKS: dict[str, tuple[Callable[[ApiKey, bytes, Headers], bool], bool, str]] = {
    "sendgrid": (_sendgrid_verified, True, "the Event Webhook signature does not verify"),
    "shopify": (_shopify_verified, False, "X-Shopify-Hmac-Sha256 does not match the body"),
}


class Endpoints:
    """The HTTP endpoints over one :class:`CollectorService`: the Segment tracking API, the
    webhooks, the profile API and the health check."""

    def __init__(self, service: CollectorService) -> None:
        self.service = service

    async def segment(self, request: Request) -> Response:
        call = request.path_params["call"]
        if call not in SEGMENT_CALLS:
            return rejected(RequestRejected(404, "not_found", f"no endpoint /v1/{call}"))
        _note(request, f"/v1/{call}")
        try:
            limit = body_limit(call)
            header_key = basic_auth_user(request.headers.get("authorization"))
            key = await self.service.authenticate(header_key, "write") if header_key else None
            body = decode_body(await read_body(request, limit), request.headers.get("content-encoding"), limit)
            batch = segment_batch(body, call, received_at_now())
            key = key or await self.service.authenticate(batch.write_key, "write")
            if key.source != "segment":
                raise RequestRejected(401, "unauthorized", f"key {key.key_id} is a {key.source} webhook key")
        except RequestRejected as error:
            return rejected(error)
        _note(request, f"/v1/{call}", key=key.key_id, messages=batch.messages)
        return await _spool(self.service, "segment", batch)

    async def webhook(self, request: Request) -> Response:
        source = request.path_params["source"]
        if source not in WEBHOOKS:
            return rejected(RequestRejected(404, "not_found", f"no webhook for {source[:32]!r}"))
        route = f"/v1/webhooks/{source}/{{key_id}}"
        _note(request, route)
        verified, array, refusal = WEBHOOKS[source]
        try:
            key = await self.service.webhook_key(request.path_params["key_id"], source)
            raw = await read_body(request, MAX_WEBHOOK_BYTES)
            if not verified(key, raw, request.headers):
                raise RequestRejected(401, "bad_signature", refusal)
            topic = request.headers.get("x-shopify-topic", "")
            if source == "shopify" and topic not in SHOPIFY_ORDER_TOPICS:  # acknowledged (else retried), not stored
                _note(request, route, key=key.key_id, messages=0)
                return JSONResponse({"success": True, "stored": 0, "ignored_topic": topic[:64]})
            body = decode_body(raw, request.headers.get("content-encoding"), MAX_WEBHOOK_BYTES)
            batch = webhook_events(body, array=array)
        except RequestRejected as error:
            return rejected(error)
        _note(request, route, key=key.key_id, messages=batch.messages)
        return await _spool(self.service, source, batch)

    async def profile(self, request: Request) -> Response:
        route = "/v1/profiles/{profile_id}" if "profile_id" in request.path_params else "/v1/profiles"
        _note(request, route)
        if "profile_id" in request.path_params:
            lookup, value = "profile_id", request.path_params["profile_id"]
        else:
            named = [name for name in LOOKUPS if name in request.query_params]
            if len(named) != 1:
                return rejected(
                    RequestRejected(
                        400, "invalid_lookup", f"give exactly one of {', '.join(LOOKUPS)} as a query parameter"
                    )
                )
            lookup, value = named[0], request.query_params[named[0]]
        try:
            key = await self.service.authenticate(bearer_token(request.headers.get("authorization")), "read")
            _note(request, route, key=key.key_id)
            parsed = parse_request(
                lookup, value, request.query_params.get("fields"), await self.service.profile_columns()
            )
            document = await self.service.profile_document(parsed)
        except RequestRejected as error:
            return rejected(error)
        except psycopg.OperationalError:
            return rejected(RequestRejected(503, "unavailable", "the warehouse cannot be reached; retry"))
        if document is None:
            return rejected(RequestRejected(404, "not_found", "no such profile (unknown, retired or erased)"))
        return Response(document, media_type="application/json")

    async def health(self, request: Request) -> Response:
        _note(request, "/health")
        spools = {s: vars(spool.stats) for s, spool in self.service.spool.sources.items()}
        return JSONResponse({"status": "ok", "keys": len(self.service.keys), "spool": spools})


def build_app(service: CollectorService) -> Starlette:
    """The application around a (not yet started) :class:`CollectorService`."""
    endpoints = Endpoints(service)
    tracking = CORSMiddleware(
        Router([Route("/{call}", endpoints.segment, methods=["POST"])]),
        allow_origins=list(service.settings.cors_origins),
        allow_methods=["POST", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization", "Content-Encoding"],
        max_age=86400,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = Starlette(
        routes=[
            Route("/health", endpoints.health, methods=["GET"]),
            Route("/v1/profiles", endpoints.profile, methods=["GET"]),
            Route("/v1/profiles/{profile_id}", endpoints.profile, methods=["GET"]),
            Route("/v1/webhooks/{source}/{key_id}", endpoints.webhook, methods=["POST"]),
            Mount("/v1", app=tracking),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(AccessLog)
    return app


class AccessLog:
    """One log line per request, without personal data (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        entry: dict[str, object] = {"route": "-", "status": 500}
        scope[LOG_SCOPE] = entry
        started = time.perf_counter()

        async def sending(message: dict) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                extra = "".join(f" {k}={entry[k]}" for k in ("key", "messages") if k in entry)
                access_log.info(
                    "%s %s %s %.1fms%s",
                    scope["method"],
                    entry["route"],
                    entry["status"],
                    (time.perf_counter() - started) * 1000,
                    extra,
                )


def create_app(settings: CollectorSettings, landing_dir: Path, warehouse_url: str) -> Starlette:
    return build_app(CollectorService(settings, landing_dir, warehouse_url))

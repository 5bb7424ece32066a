"""What the running server holds: the spool, the key ring, the profile API's connection pool.

The pool is psycopg 3's ``AsyncConnectionPool``: the same libpq as psycopg2 everywhere else (so
the embedded server's Unix-socket URLs and every ``DATABASE_URL`` work unchanged), native
asyncio, and statements prepared on first use (``prepare_threshold=0``), so a lookup is one
round trip of an already planned statement. asyncpg would be a little faster per call, but it
parses URLs itself and a lookup here costs well under a millisecond either way.

Keys are read into memory and reloaded every ``key_refresh_seconds`` (a revoked key stops
working within that time). A token or webhook key id not in memory is looked up in the table
once (a key created a moment ago works at once; a miss is remembered for a few seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from functools import lru_cache

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from audience_dagster.collector.auth import SOURCES, ApiKey, KeyRing, looks_like_token, token_sha256
from audience_dagster.collector.keystore import ACTIVE_KEYS, key_from_row
from audience_dagster.collector.limits import RequestRejected
from audience_dagster.collector.profiles import VIEW_COLUMNS, ProfileRequest, compile_profile_query
from audience_dagster.collector.spool import Spool
from audience_dagster.config import CollectorSettings
from audience_dagster.errors import WarehouseError
from audience_dagster.warehouse.connection import redact

log = logging.getLogger("audience.collector")
SPOOLED_SOURCES = SOURCES  # segment, sendgrid, shopify: one spool each
COLUMNS_TTL_SECONDS = 60.0
MISS_CACHE_SECONDS = 5.0


@lru_cache(maxsize=64)
def profile_query(lookup: str, sections: tuple[str, ...]) -> str:
    return compile_profile_query(lookup, sections)


class CollectorService:
    """The state behind the routes; ``start``/``stop`` from the ASGI lifespan."""

    def __init__(self, settings: CollectorSettings, landing_dir, warehouse_url: str) -> None:
        self.settings = settings
        self.url = warehouse_url
        self.spool = Spool(
            settings.spool_dir, landing_dir, SPOOLED_SOURCES, settings.rotate_bytes, settings.rotate_seconds
        )
        self.pool = AsyncConnectionPool(
            warehouse_url,
            min_size=settings.pool_size,
            max_size=settings.pool_size,
            open=False,
            kwargs={
                "autocommit": True,
                "prepare_threshold": 0,
                # one plan per statement, made once per connection: the lookups are all index look-ups
                "options": "-c TimeZone=UTC -c plan_cache_mode=force_generic_plan",
            },
            name="audience-profile-api",
        )
        self.keys = KeyRing()
        self._misses: dict[object, float] = {}
        self._reload_lock = asyncio.Lock()
        self._columns: tuple[str, ...] = ()
        self._columns_at = 0.0
        self._refresher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        try:
            await self.pool.open(wait=True, timeout=30)
        except PoolTimeout as exc:
            raise WarehouseError(f"the collector cannot reach PostgreSQL at {redact(self.url)}") from exc
        await self.reload_keys()
        await self.spool.start()
        self._refresher = asyncio.create_task(self._refresh_keys(), name="key-refresh")
        log.info("collector ready: %d active keys, spool %s", len(self.keys), self.settings.spool_dir)

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        await self.spool.close()
        await self.pool.close()

    # -- keys ----------------------------------------------------------------------------------

    async def reload_keys(self) -> None:
        async with self._reload_lock, self.pool.connection() as conn:
            rows = await (await conn.execute(ACTIVE_KEYS)).fetchall()
            self.keys = KeyRing(key_from_row(row) for row in rows)
            self._misses.clear()

    async def _refresh_keys(self) -> None:
        while True:
            await asyncio.sleep(self.settings.key_refresh_seconds)
            try:
                await self.reload_keys()
            except (psycopg.Error, OSError) as exc:  # keep the keys we have; try again later
                log.warning("key refresh failed (%s); keeping %d keys", type(exc).__name__, len(self.keys))

    async def _fetch_key(self, where: str, value: object) -> ApiKey | None:
        """A key the ring does not hold yet (created a moment ago), straight from the table; misses
        are remembered for a few seconds so a client repeating a bad key costs one look-up."""
        if self._misses.get(value, 0.0) > time.monotonic():
            return None
        try:
            async with self.pool.connection() as conn:
                row = await (await conn.execute(f"{ACTIVE_KEYS} AND {where} = %s", (value,))).fetchone()
        except (psycopg.Error, OSError):
            return None
        if row is None:
            if len(self._misses) > 10_000:
                self._misses.clear()
            self._misses[value] = time.monotonic() + MISS_CACHE_SECONDS
            return None
        key = key_from_row(row)
        self.keys = self.keys.with_key(key)
        return key

    async def authenticate(self, token: str | None, kind: str) -> ApiKey:
        """The active key of ``token``; 401 otherwise (a write key is no read key and vice versa)."""
        key = self.keys.authenticate(token, kind)
        if key is None and token and looks_like_token(token):
            found = await self._fetch_key("token_sha256", token_sha256(token))
            key = found if found is not None and found.kind == kind else None
        if key is None:
            what = "write key (HTTP Basic user or writeKey)" if kind == "write" else "read key (Authorization: Bearer)"
            raise RequestRejected(401, "unauthorized", f"missing, unknown or revoked {what}")
        return key

    async def webhook_key(self, key_id: str, source: str) -> ApiKey:
        key = self.keys.webhook(key_id, source)
        if key is None and len(key_id) <= 64:
            found = await self._fetch_key("key_id", key_id)
            key = found if found is not None and found.source == source else None
        if key is None:
            raise RequestRejected(401, "unauthorized", f"no active {source} webhook key with this id")
        return key

    # -- profiles ------------------------------------------------------------------------------

    async def profile_columns(self) -> tuple[str, ...]:
        if self._columns and time.monotonic() - self._columns_at < COLUMNS_TTL_SECONDS:
            return self._columns
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(VIEW_COLUMNS)).fetchall()
        if not rows:
            raise RequestRejected(
                503, "not_ready", "no profiles yet: run `audience refresh` (or materialise in the UI)"
            )
        self._columns, self._columns_at = tuple(r[0] for r in rows), time.monotonic()
        return self._columns

    async def profile_document(self, request: ProfileRequest) -> str | None:
        """The profile as JSON text, or None (unknown, retired or erased)."""
        try:
            async with self.pool.connection() as conn:
                cursor = await conn.execute(profile_query(request.lookup, request.sections), request.params())
                row = await cursor.fetchone()
        except psycopg.errors.UndefinedTable as exc:
            raise RequestRejected(
                503, "not_ready", "the identity or profile tables do not exist yet: run a refresh"
            ) from exc
        return None if row is None else row[0]

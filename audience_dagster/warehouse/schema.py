"""Every capability's schema, in one place: the registry of who owns migrations, in order.

A capability owns its schema in ``audience_dagster/<capability>/sql/`` (numbered migration files,
see :mod:`.migrations`) and exposes ``ensure_schema(conn)`` in its ``schema.py``, which migrates
that capability alone. :func:`ensure_schema` here migrates all of them, in :data:`CAPABILITIES`
order (privacy first: ingest's load statements and its erasure share its hashing functions).
A new capability adds its name to :data:`CAPABILITIES` (docs/schema.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import resources

import psycopg2.extensions

from audience_dagster.errors import MigrationError
from audience_dagster.warehouse.migrations import Capability, CapabilityStatus, Migration, migrate, read_status

CAPABILITIES: tuple[str, ...] = (
    "privacy",
    "ingest",
    "identity",
    "scoring",
    "predictions",
    "segments",
    "collector",
    "activation",
)


def capability(name: str) -> Capability:
    """The capability ``name`` with its ``audience_dagster/<name>/sql/`` folder."""
    if name not in CAPABILITIES:
        raise MigrationError(f"unknown capability {name!r}: known are {', '.join(CAPABILITIES)}")
    return Capability(name, resources.files(f"audience_dagster.{name}").joinpath("sql"))


def capabilities(names: Sequence[str] | None = None) -> list[Capability]:
    """The named capabilities (default: all), always in registry order."""
    wanted = CAPABILITIES if names is None else names
    for name in wanted:
        capability(name)  # raises on an unknown name
    return [capability(name) for name in CAPABILITIES if name in wanted]


def ensure_schema(
    conn: psycopg2.extensions.connection, names: Sequence[str] | None = None, *, accept_edited: bool = False
) -> list[Migration]:
    """Migrate the named capabilities (default: every one) to their latest version."""
    return migrate(conn, capabilities(names), accept_edited=accept_edited)


def schema_status(conn: psycopg2.extensions.connection, names: Sequence[str] | None = None) -> list[CapabilityStatus]:
    """Each capability's applied and latest versions (reads only)."""
    return read_status(conn, capabilities(names))


def schema_of(name: str) -> Callable[[psycopg2.extensions.connection], list[Migration]]:
    """``ensure_schema(conn)`` for the capability ``name`` alone (what its ``schema.py`` exports)."""
    capability(name)

    def ensure_capability_schema(conn: psycopg2.extensions.connection) -> list[Migration]:
        return migrate(conn, [capability(name)])

    ensure_capability_schema.__doc__ = f"Create or upgrade the {name} schema to its latest version (idempotent)."
    return ensure_capability_schema

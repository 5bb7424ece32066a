"""Privacy's schema: suppressed identifiers, erasure requests, identifier hashing functions.

The migrations are the numbered files of ``sql/``; how to add one: docs/schema.md.
"""

from __future__ import annotations

from audience_dagster.warehouse.schema import schema_of

ensure_schema = schema_of("privacy")

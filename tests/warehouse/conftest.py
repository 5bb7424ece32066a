"""Scratch databases for the schema tests: each test gets empty databases of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conftest import admin, fresh_database


@pytest.fixture()
def scratch_database(warehouse_url: str, worker_id: str) -> Iterator[Callable[[str], str]]:
    """``scratch_database("fresh")`` → the URL of a new empty database (dropped after the test)."""
    made: list[str] = []

    def make(label: str) -> str:
        name = f"audience_schema_{label}_{worker_id}".replace("-", "_")
        made.append(name)
        return fresh_database(warehouse_url, name)

    yield make
    for name in made:
        admin(warehouse_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

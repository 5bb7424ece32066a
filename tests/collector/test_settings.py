"""The collector's settings: defaults, overrides, and errors that say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from audience_dagster.config import load_settings
from audience_dagster.errors import ConfigError


def test_defaults_bind_loopback_and_spool_inside_the_landing_folder(tmp_path: Path) -> None:
    collector = load_settings({"AUDIENCE_LANDING_DIR": str(tmp_path)}).collector
    assert (collector.host, collector.port) == ("127.0.0.1", 8088)
    assert collector.spool_dir == tmp_path / ".collector"  # same filesystem: publishing is a rename
    assert collector.cors_origins == ("*",) and collector.rotate_seconds == 60


def test_overrides(tmp_path: Path) -> None:
    collector = load_settings(
        {
            "AUDIENCE_COLLECTOR_PORT": "9000",
            "AUDIENCE_COLLECTOR_SPOOL_DIR": str(tmp_path / "spool"),
            "AUDIENCE_COLLECTOR_CORS_ORIGINS": "https://a.dev, https://b.dev",
            "AUDIENCE_COLLECTOR_POOL_SIZE": "8",
        }
    ).collector
    assert collector.port == 9000 and collector.spool_dir == tmp_path / "spool" and collector.pool_size == 8
    assert collector.cors_origins == ("https://a.dev", "https://b.dev")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AUDIENCE_COLLECTOR_PORT", "http", "not a whole number"),
        ("AUDIENCE_COLLECTOR_PORT", "70000", "between 0 and 65535"),
        ("AUDIENCE_COLLECTOR_ROTATE_BYTES", "10", "give at least"),
        ("AUDIENCE_COLLECTOR_INGEST_INTERVAL_SECONDS", "1", "give at least 30"),
    ],
)
def test_bad_values_fail_with_the_variable_named(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings({name: value})
    assert name in str(caught.value)

"""Settings and the one-URL rule: every consumer derives its connection from the same URL."""

from __future__ import annotations

import pytest

from audience_dagster.config import load_settings
from audience_dagster.errors import ConfigError
from audience_dagster.warehouse.connection import (
    connection_parts,
    dbt_env,
    redact,
    sqlalchemy_url,
    with_database,
)
from audience_dagster.warehouse.dagster_home import prepare_dagster_home


def test_embedded_by_default_external_with_database_url(tmp_path) -> None:
    assert load_settings({"AUDIENCE_HOME": str(tmp_path)}).embedded
    external = load_settings(
        {"AUDIENCE_HOME": str(tmp_path), "DATABASE_URL": "postgresql://u:p@db.example.com:6543/app"}
    )
    assert not external.embedded
    assert external.landing_dir == tmp_path / "sample" / "landing"


def test_bad_settings_say_what_to_do(tmp_path) -> None:
    with pytest.raises(ConfigError, match="postgresql://"):
        load_settings({"DATABASE_URL": "mysql://x@y/z"})
    with pytest.raises(ConfigError, match="AUDIENCE_FUTURE_TOLERANCE_SECONDS"):
        load_settings({"AUDIENCE_FUTURE_TOLERANCE_SECONDS": "soon"})


def test_socket_url_gives_directory_as_host() -> None:
    parts = connection_parts("postgresql://postgres:@/audience?host=/srv/pg%20data")
    assert parts == {
        "host": "/srv/pg data",
        "port": "5432",
        "user": "postgres",
        "password": "",
        "dbname": "audience",
        "sslmode": "prefer",
    }


def test_hosted_url_for_dbt_and_dagster() -> None:
    url = "postgresql://svc:s3cr%40t@db.example.com:6543/app?sslmode=require"
    env = dbt_env(url)
    assert env["AUDIENCE_PG_HOST"] == "db.example.com"
    assert env["AUDIENCE_PG_PORT"] == "6543"
    assert env["AUDIENCE_PG_PASSWORD"] == "s3cr@t"
    assert env["AUDIENCE_PG_SSLMODE"] == "require"
    assert sqlalchemy_url(url).startswith("postgresql+psycopg2://svc:")
    assert "s3cr" not in redact(url)
    assert with_database(url, "other") == "postgresql://svc:s3cr%40t@db.example.com:6543/other?sslmode=require"


def test_dagster_home_uses_postgres_storage(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = prepare_dagster_home(tmp_path / "dh")
    text = (home / "dagster.yaml").read_text()
    assert "postgres_url" in text and "sqlite" not in text
    import os

    assert os.environ["DAGSTER_HOME"] == str(home)


def test_prediction_settings_and_their_errors() -> None:
    from audience_dagster.config import load_settings

    settings = load_settings({"AUDIENCE_CHURN_HORIZON_DAYS": "60", "AUDIENCE_MODELS_DIR": "/tmp/m"})
    assert settings.horizons_days == {"churn": 60, "next_purchase": 30, "ltv": 365, "upgrade": 90}
    assert str(settings.models_dir) == "/tmp/m" and settings.training_cron == "0 3 * * 1"
    with pytest.raises(ConfigError, match="AUDIENCE_LTV_HORIZON_DAYS=0"):
        load_settings({"AUDIENCE_LTV_HORIZON_DAYS": "0"})
    with pytest.raises(ConfigError, match="five cron fields"):
        load_settings({"AUDIENCE_TRAINING_CRON": "weekly"})

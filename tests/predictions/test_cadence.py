"""A refresh retrains the prediction models on the training cadence, not every hour
(predictions/cadence.py): a real (ephemeral) Dagster instance holds the last training."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from audience_dagster.clock import last_tick
from audience_dagster.config import Settings
from audience_dagster.predictions.assets import MODELS_KEY, PREDICTIONS_KEY
from audience_dagster.predictions.cadence import training_due
from audience_dagster.predictions.targets import PREDICTION_TYPES
from audience_dagster.runs.refresh import _on_cadence

WEEKLY = "0 3 * * 1"  # Mondays 03:00 UTC
SATURDAY = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def models(tmp_path: Path) -> Path:
    for kind in PREDICTION_TYPES:
        (tmp_path / kind).mkdir()
        (tmp_path / kind / "LATEST").write_text(f"{kind}-v1")
    return tmp_path


def trained(instance: dg.DagsterInstance, as_of: datetime) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(MODELS_KEY, metadata={"as_of": as_of.isoformat()}))


def test_the_last_tick_is_the_latest_monday_three_oclock_at_or_before_the_clock() -> None:
    assert last_tick(WEEKLY, SATURDAY) == datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    assert last_tick(WEEKLY, datetime(2026, 11, 30, 3, 0, tzinfo=UTC)) == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def test_training_is_due_only_when_a_tick_passed_or_something_is_missing(models: Path) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        due, why = training_due(instance, MODELS_KEY, models, WEEKLY, SATURDAY)
        assert due and "never trained" in why
        trained(instance, at(27))  # Friday
        assert training_due(instance, MODELS_KEY, models, WEEKLY, SATURDAY)[0] is False
        assert training_due(instance, MODELS_KEY, models, WEEKLY, at(30, 2))[0] is False  # Monday 02:00
        due, why = training_due(instance, MODELS_KEY, models, WEEKLY, at(30, 3))  # Monday 03:00: the tick
        assert due and "2026-11-30T03:00:00+00:00" in why
        # a backfill to a clock before the training: models that saw its future must not score
        due, why = training_due(instance, MODELS_KEY, models, WEEKLY, at(26))
        assert due and "later than this run's clock" in why
        (models / "ltv" / "LATEST").unlink()
        due, why = training_due(instance, MODELS_KEY, models, WEEKLY, SATURDAY)
        assert due and "no promoted ltv model" in why


def test_a_refresh_between_ticks_scores_without_retraining(models: Path) -> None:
    settings = Settings(
        home=models,
        database_url=None,
        dagster_database_url=None,
        landing_dir=models,
        future_tolerance_seconds=0,
        models_dir=models,
        training_cron=WEEKLY,
    )
    lines: list[str] = []
    selection = {MODELS_KEY, PREDICTIONS_KEY}
    with dg.DagsterInstance.ephemeral() as instance:
        assert _on_cadence(selection, instance, settings, SATURDAY, lines.append) == selection
        trained(instance, at(27))
        assert _on_cadence(selection, instance, settings, SATURDAY, lines.append) == {PREDICTIONS_KEY}
        assert _on_cadence({PREDICTIONS_KEY}, instance, settings, at(30, 4), lines.append) == {PREDICTIONS_KEY}
        assert _on_cadence(selection, instance, settings, at(30, 4), lines.append) == selection
    assert [line.split(" (")[0] for line in lines] == [
        "prediction models: retrain",
        "prediction models: not retrained",
        "prediction models: retrain",
    ]

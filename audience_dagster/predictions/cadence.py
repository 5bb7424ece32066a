"""When a refresh retrains the prediction models: on the training cadence, not every hour.

A refresh rebuilds what its new data made stale, and ``predictions/prediction_models`` is
downstream of the profiles, so without this rule every hourly refresh would retrain all four
models (a fifth of an increment's time at 200k people). Models are trained at the weekly
schedule's pace instead (``AUDIENCE_TRAINING_CRON``, Mondays 03:00 UTC by default); the
refresh in between scores every profile with the promoted models (``profile_predictions``
still runs). Training is due when any of these holds, each given as the reason:

* the asset was never materialised, or a prediction type has no promoted model on disk;
* a tick of the training cron fell between the clock the models were trained as of and this
  run's clock (the first refresh after Monday 03:00 trains);
* the models were trained as of a later clock than this run's (a backfill to an earlier
  ``as_of`` must not score with models that saw its future).

``audience refresh --full`` and materialising the asset in the UI train regardless.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dagster as dg

from audience_dagster.clock import cadence_due
from audience_dagster.predictions.targets import PREDICTION_TYPES


def latest_training_as_of(instance: dg.DagsterInstance, key: dg.AssetKey) -> datetime | None:
    """The ``as_of`` the asset's latest materialisation reports (None: never, or not recorded)."""
    event = instance.get_latest_materialization_event(key)
    if event is None or event.asset_materialization is None:
        return None
    value = event.asset_materialization.metadata.get("as_of")
    return datetime.fromisoformat(value.value) if value is not None else None


def training_due(
    instance: dg.DagsterInstance, key: dg.AssetKey, models_dir: Path, cron: str, as_of: datetime
) -> tuple[bool, str]:
    """Whether a refresh as of ``as_of`` retrains the models, and why (or why not)."""
    missing = [kind for kind in PREDICTION_TYPES if not (models_dir / kind / "LATEST").exists()]
    if missing:
        return True, f"no promoted {', '.join(missing)} model under {models_dir}"
    trained = latest_training_as_of(instance, key)
    if trained is None:
        return True, "never trained in this Dagster instance"
    return cadence_due(trained, cron, as_of)

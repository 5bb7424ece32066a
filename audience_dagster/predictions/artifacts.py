"""Trained models on disk: one folder per version with the model and its model card.

``<models_dir>/<prediction_type>/<version>/model.pkl`` (the :class:`TrainedModel`, pickled),
``card.json`` (everything but the estimator) and ``MODEL_CARD.md`` (the same, for people);
``<models_dir>/<prediction_type>/LATEST`` names the version that scores. The last
``KEEP_VERSIONS`` versions of each type are kept. Pickles are only ever read from this
folder, which the project itself writes: never load a model file from elsewhere.
"""

from __future__ import annotations

import json
import math
import pickle
import shutil
from pathlib import Path

from audience_dagster import markdown
from audience_dagster.errors import ModelError
from audience_dagster.predictions.features import FEATURES
from audience_dagster.predictions.targets import PREDICTION_TYPES
from audience_dagster.predictions.train import TrainedModel

KEEP_VERSIONS = 5


def _clean(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "tolist"):
        return _clean(value.tolist())
    return value


def model_card(model: TrainedModel) -> dict[str, object]:
    baseline = model.baseline
    return _clean(
        {
            "prediction_type": model.prediction_type,
            "version": model.version,
            "method": model.method,
            "trained_at": model.trained_at,
            "training_window": {
                "features_before": model.cutoff,
                "labels_days_after": model.label_days,
                "horizon_days": model.horizon_days,
            },
            "training_rows": model.training_rows,
            "features": [
                {"name": f, "meaning": FEATURES.get(f, "a BG/NBD + Gamma-Gamma output")} for f in model.features
            ],
            "segments": {
                name: {
                    "method": seg.method,
                    "training_rows": seg.training_rows,
                    "candidate_validation_loss": seg.selection,
                    "driver_candidates": seg.driver_candidates,
                    "skill": seg.skill,
                    "reliability": seg.reliability,
                    "why": seg.reason,
                    "ltv_interval_80": seg.interval,
                }
                for name, seg in model.segments.items()
            },
            "holdout_metrics": model.metrics,
            "calibration_by_decile": model.calibration,
            "lift_by_decile": model.lift,
            "baseline": {
                "customer_rate": baseline.customer_rate,
                "noncustomer_rate": baseline.noncustomer_rate,
                "tier_upgrade_rate": baseline.tier_upgrade_rate,
                "spend_tier_edges": baseline.tier_edges,
            },
            "notes": model.notes,
        }
    )


def card_markdown(model: TrainedModel) -> str:
    """The model card for people (and for the asset's metadata)."""
    return _markdown(model_card(model))


def _table(rows: list[dict], columns: list[str]) -> list[str]:
    return markdown.table_lines(columns, ([r.get(c) for c in columns] for r in rows))


def _markdown(card: dict) -> str:
    lines = [f"# Model card: {card['version']}", ""]
    for key in ("prediction_type", "method", "trained_at", "training_rows"):
        lines.append(f"- **{key}**: {card[key]}")
    window = card["training_window"]
    lines.append(
        f"- **training window**: features before {window['features_before']}, labels from the "
        f"{window['labels_days_after']} days after; predicts {window['horizon_days']} days ahead"
    )
    metrics = card["holdout_metrics"]
    if metrics:
        lines += ["", "## Holdout (20% of profiles, never trained on): model beside the BTYD baseline", ""]
        keys = list(metrics.get("model", {}))
        rows = [{"metric": k, **{who: figures.get(k) for who, figures in metrics.items()}} for k in keys]
        lines += _table(rows, ["metric", *metrics])
    if card["calibration_by_decile"]:
        lines += ["", "## Calibration by decile (1 = lowest predictions)", ""]
        lines += _table(card["calibration_by_decile"], ["decile", "profiles", "mean_predicted", "observed"])
    if card.get("lift_by_decile"):
        lines += ["", "## Lift and cumulative gain (1 = highest predictions)", ""]
        lines += _table(card["lift_by_decile"], ["decile", "profiles", "observed", "lift", "cumulative_gain"])
    lines += ["", "## Segments", ""]
    seg_rows = [{"segment": name, **seg} for name, seg in card["segments"].items()]
    lines += _table(seg_rows, ["segment", "method", "training_rows", "skill", "reliability", "why"])
    lines += ["", "## Features", ""] + [f"- `{f['name']}`: {f['meaning']}" for f in card["features"]]
    if card["notes"]:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in card["notes"]]
    return "\n".join(lines) + "\n"


def save_model(model: TrainedModel, models_dir: Path) -> Path:
    """Write the model and its card (not yet scoring: see :func:`promote`); returns the folder."""
    kind_dir = models_dir / model.prediction_type
    folder = kind_dir / model.version
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "model.pkl").open("wb") as handle:
        pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
    card = model_card(model)
    (folder / "card.json").write_text(json.dumps(card, indent=2))
    (folder / "MODEL_CARD.md").write_text(_markdown(card))
    return folder


def promote(model: TrainedModel, models_dir: Path) -> None:
    """Point LATEST at a saved model (atomically) and prune all but the last versions."""
    kind_dir = models_dir / model.prediction_type
    (kind_dir / "LATEST.tmp").write_text(model.version)
    (kind_dir / "LATEST.tmp").replace(kind_dir / "LATEST")
    latest = kind_dir / model.version
    versions = sorted((p for p in kind_dir.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in versions[:-KEEP_VERSIONS]:
        if old != latest:
            shutil.rmtree(old, ignore_errors=True)


def load_latest(models_dir: Path) -> dict[str, TrainedModel]:
    """The LATEST model of every prediction type; ModelError naming what is missing."""
    models = {}
    for kind in PREDICTION_TYPES:
        pointer = models_dir / kind / "LATEST"
        if not pointer.exists():
            raise ModelError(f"no trained {kind} model under {models_dir}: materialise predictions/prediction_models")
        path = models_dir / kind / pointer.read_text().strip() / "model.pkl"
        try:
            with path.open("rb") as handle:
                models[kind] = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, AttributeError, ModuleNotFoundError) as exc:
            raise ModelError(f"cannot load {path}: {exc}; retrain with predictions/prediction_models") from exc
    return models

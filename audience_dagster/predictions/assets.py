"""Predictions as Dagster assets: weekly (and on demand) training, scoring whenever profiles change.

* ``predictions/prediction_models`` trains the four prediction types as of the run's clock,
  saves each under ``models/`` with its model card (also shown as markdown metadata), shows
  the holdout figures (model beside the BTYD baseline, calibration by decile, lift and gain,
  cumulative purchases expected vs actual) and
  runs the quality gates of ``gates.py`` as checks (ERROR severity). A model that fails a gate
  is saved for inspection but never promoted to ``LATEST``: its BTYD / base-rate baseline from
  the same run is promoted instead (version suffix ``-gated``), so a bad model never scores
  and scoring never lacks a model. (A model that is only its baseline reports a calibration
  miss as a warning.)
* ``predictions/profile_predictions`` scores the profiles as of the run's clock with the
  ``LATEST`` models into ``marts.predictions`` (every profile once a day, the changed ones in
  between: ``incremental.py``) (churn for customers only; a prospect's
  next_purchase row is its conversion probability; the spec's table, which dbt's
  ``source('predictions', 'predictions')`` names as this asset: the ``audience_profiles`` view and
  the ML segments run after it). ``valid_until`` = the run's as_of + the horizon.
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hint.

import dagster as dg
import pandas as pd
from dagster import AssetExecutionContext

from audience_dagster import markdown
from audience_dagster.clock import RunClock
from audience_dagster.predictions.resource import PredictionsResource
from audience_dagster.predictions.targets import PREDICTION_TYPES, PROBABILITIES
from audience_dagster.transform.keys import EVENTS_KEY, PROFILE_BASE_KEY
from audience_dagster.warehouse.resource import WAREHOUSE_POOL, WarehouseResource

PROFILES_KEY = PROFILE_BASE_KEY  # the profile table the features read
MODELS_KEY = dg.AssetKey(["predictions", "prediction_models"])
# writes marts.predictions; dbt's source predictions.predictions carries this key (meta.dagster)
PREDICTIONS_KEY = dg.AssetKey(["predictions", "profile_predictions"])
GATES = ("beats_baseline", "calibrated")
CHECKS = [f"{kind}_{gate}" for kind in PREDICTION_TYPES for gate in GATES] + ["next_purchase_conversion"]


class ScoringConfig(dg.Config):
    """``full``: score every profile whatever changed (the full rebuild job sets it)."""

    full: bool = False


def _table(frame: pd.DataFrame) -> dg.MetadataValue:
    return dg.MetadataValue.md(markdown.table(list(frame.columns), frame.itertuples(index=False)))


def _comparison(model) -> pd.DataFrame:
    keys = ("auc", "brier", "ece", "customers_auc", "customers_brier", "customers_ece")
    if model.prediction_type == "next_purchase":  # a prospect's next purchase is its conversion
        keys += ("prospects_auc", "prospects_brier", "prospects_ece")
    if model.prediction_type not in PROBABILITIES:
        keys = ("mae", "gini", "total_predicted", "total_actual", "customers_mae", "customers_gini")
    rows = [(k, model.metrics["model"].get(k), model.metrics["baseline"].get(k)) for k in keys]
    return pd.DataFrame(rows, columns=["metric", "model", "btyd_baseline"])


@dg.asset(
    key=MODELS_KEY,
    group_name="predictions",
    kinds={"python", "scikit-learn"},
    deps=[PROFILES_KEY, EVENTS_KEY],
    pool=WAREHOUSE_POOL,
    check_specs=[dg.AssetCheckSpec(name, asset=MODELS_KEY) for name in CHECKS],
)
def prediction_models(
    context: AssetExecutionContext, warehouse: WarehouseResource, clock: RunClock, predictions: PredictionsResource
):
    """Train churn, next_purchase, LTV and upgrade models as of the run's clock with honest
    temporal splits (features before a cutoff, labels after it), save them with model cards under
    `models/`, and gate them against the BTYD baseline on a 20% holdout."""
    # scikit-learn loads here, when a run trains, not with the definitions (every CLI command)
    from audience_dagster.predictions.artifacts import card_markdown, promote, save_model
    from audience_dagster.predictions.gates import baseline_only, evaluate_gates
    from audience_dagster.predictions.pipeline import train_all

    models_dir = predictions.models_path
    with warehouse.connection() as conn:
        run = train_all(conn, dict(predictions.horizons_days), as_of=clock.now)
    metadata: dict[str, object] = {"as_of": run.as_of.isoformat(), **{k: round(v, 2) for k, v in run.seconds.items()}}
    checks = []
    for kind, model in run.models.items():
        gates = evaluate_gates(model)
        folder = save_model(model, models_dir)
        if all(g.passed or not g.blocking for g in gates):
            promote(model, models_dir)
        else:
            fallback = baseline_only(model)
            save_model(fallback, models_dir)
            promote(fallback, models_dir)
            context.log.warning(f"{model.version} failed a gate: not promoted, {fallback.version} serves")
            metadata[f"{kind}_serving"] = fallback.version
        metadata[f"{kind}_version"] = model.version
        metadata[f"{kind}_model_card"] = dg.MetadataValue.md(card_markdown(model))
        metadata[f"{kind}_model_folder"] = dg.MetadataValue.path(str(folder))
        if model.metrics:
            metadata[f"{kind}_holdout"] = _table(_comparison(model))
        if model.calibration:
            metadata[f"{kind}_calibration_by_decile"] = _table(pd.DataFrame(model.calibration))
        if model.lift:
            metadata[f"{kind}_lift_and_gain"] = _table(pd.DataFrame(model.lift))
        for gate in gates:
            checks.append(
                dg.AssetCheckResult(
                    check_name=f"{kind}_{gate.name}",
                    passed=gate.passed,
                    severity=dg.AssetCheckSeverity.ERROR if gate.blocking else dg.AssetCheckSeverity.WARN,
                    metadata={"detail": gate.detail, "version": model.version, "blocking": gate.blocking},
                )
            )
    if run.cumulative is not None:
        metadata["cumulative_repeat_purchases_expected_vs_actual"] = _table(run.cumulative)
    for name, fit in run.btyd.items():
        metadata[f"btyd_{name}_params"] = dg.MetadataValue.json({"bgnbd": fit.bgnbd, "gamma_gamma": fit.gamma_gamma})
    yield dg.MaterializeResult(metadata=metadata)
    yield from checks
    # a gate with nothing to measure (no prospects: no conversion holdout) still reports, as
    # not evaluated: every declared check has a result
    reported = {check.check_name for check in checks}
    for name in CHECKS:
        if name not in reported:
            yield dg.AssetCheckResult(
                check_name=name,
                passed=True,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"evaluated": False, "detail": "nothing to measure in this run's holdout (e.g. no prospects)"},
            )


@dg.asset(
    key=PREDICTIONS_KEY,
    group_name="predictions",
    kinds={"python", "scikit-learn", "postgres"},
    deps=[MODELS_KEY, PROFILES_KEY, EVENTS_KEY],
    pool=WAREHOUSE_POOL,
    automation_condition=dg.AutomationCondition.eager(),
    check_specs=[dg.AssetCheckSpec("every_profile_predicted_in_range", asset=PREDICTIONS_KEY, blocking=True)],
)
def profile_predictions(
    context: AssetExecutionContext,
    config: ScoringConfig,
    warehouse: WarehouseResource,
    clock: RunClock,
    predictions: PredictionsResource,
):
    """Score the profiles as of the run's clock with the promoted models into `marts.predictions`:
    value, confidence, model version, the top drivers for that profile, predicted_at (the as_of)
    and valid_until. Every profile once a day (and when the models change or audience_events was
    rebuilt); in between only the profiles whose events changed (predictions/incremental.py)."""
    from audience_dagster.predictions.artifacts import load_latest
    from audience_dagster.predictions.incremental import plan_scoring, record_pass
    from audience_dagster.predictions.pipeline import score_all
    from audience_dagster.predictions.warehouse import prediction_summary, write_predictions

    models = load_latest(predictions.models_path)
    with warehouse.connection() as conn:
        with conn.cursor() as cur:
            plan = plan_scoring(cur, models, clock.now, full=config.full)
        context.log.info(f"scoring {'every profile' if plan.full else 'the changed profiles'}: {plan.reason}")
        if plan.full or plan.profiles:
            frame, seconds = score_all(conn, models, as_of=clock.now, profiles=plan.profiles, fit=plan.fit)
            fit = frame.attrs["btyd_fit"]
        else:  # nothing changed: only the consumer's generation moves
            frame, seconds, fit = pd.DataFrame(), {}, plan.fit
        finish = lambda cur: record_pass(cur, plan, models, clock.now, fit)  # noqa: E731
        rows = write_predictions(conn, frame, plan.profiles, finish=finish)
        summary = prediction_summary(conn)
        with conn.cursor() as cur:
            cur.execute(CHECK_SQL, {"as_of": clock.now})
            missing, outside = cur.fetchone()
    context.log.info(f"{rows:,} predictions written")
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "as_of": clock.now.isoformat(),
            "scored": "every profile" if plan.full else f"{len(plan.profiles):,} changed profiles",
            "why": plan.reason,
            **{k: round(v, 2) for k, v in seconds.items()},
            "by_type": _table(
                pd.DataFrame(summary, columns=["type", "profiles", "mean_value", "mean_confidence", "model_version"])
            ),
        }
    )
    yield dg.AssetCheckResult(
        check_name="every_profile_predicted_in_range",
        passed=missing == 0 and outside == 0,
        metadata={"profiles_missing_a_type": missing, "values_out_of_range": outside},
    )


# every profile has next_purchase, ltv and upgrade; customers (a purchase by the run's as_of) churn too
CHECK_SQL = """
SELECT
    (SELECT count(*) FROM marts.audience_profile_base p
     LEFT JOIN (
         SELECT profile_id, count(*) FILTER (WHERE prediction_type <> 'churn') AS n,
                count(*) FILTER (WHERE prediction_type = 'churn') AS churn
         FROM marts.predictions GROUP BY 1
     ) x ON x.profile_id = p.id
     -- a profile first seen at or after the run's clock (its events arrived while the run ran)
     -- has no history as of it: the next run predicts it
     WHERE p.first_seen_at < %(as_of)s AND (coalesce(x.n, 0) <> 3 OR coalesce(x.churn, 0) > 1)),
    (SELECT count(*) FROM marts.predictions
     WHERE (prediction_type <> 'ltv' AND (predicted_value < 0 OR predicted_value > 1))
        OR (prediction_type = 'ltv' AND predicted_value < 0)
        OR confidence < 0 OR confidence > 1)
"""

"""Scoring in proportion to what changed: a full pass once a day, the changed profiles between.

A prediction depends on the profile's events, the models, the clock and the BG/NBD +
Gamma-Gamma fit on every customer at that clock. Between two refreshes of one day only the
first is worth rescoring everyone for. So ``profile_predictions`` scores

* **every profile** (a *full pass*) when there is no recorded pass
  (``marts.predictions_scoring_state``), when a model's version differs from the pass's, when
  the run's clock is on another UTC day than the pass's (or earlier), when audience_events was
  rebuilt in full since, or when asked (``audience refresh --full``); the pass records its
  clock, the model versions and the BTYD fit;
* otherwise **the profiles the audience_events change log names** since this consumer's
  generation (:mod:`audience_dagster.warehouse.profile_changes`: new events, merges, splits, a
  profile merged away), as of the run's clock, with the pass's BTYD fit. Their rows are
  replaced (a profile that no longer exists loses them); every other row keeps the
  ``predicted_at`` of the run that wrote it, at most a day old.

A profile rescored between passes gets the value a full pass at the run's clock would give it
but for the BTYD fit, which is the day's (the population's parameters move little in a day;
refitting them needs every customer's history). The consumer's generation and the state are
written in the transaction of the predictions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg2.extensions

from audience_dagster.predictions.baseline import BtydFit
from audience_dagster.predictions.train import TrainedModel
from audience_dagster.warehouse import profile_changes

CONSUMER = "profile_predictions"
STATE = "marts.predictions_scoring_state"


@dataclass(frozen=True)
class ScoringPlan:
    """What to score: every profile (``profiles`` None) or these; why; the fit to score with
    (None: refit); the change-log generation this run reads up to."""

    profiles: list[str] | None
    reason: str
    fit: BtydFit | None
    generation: int

    @property
    def full(self) -> bool:
        return self.profiles is None


def model_versions(models: dict[str, TrainedModel]) -> dict[str, str]:
    return {kind: model.version for kind, model in sorted(models.items())}


def plan_scoring(
    cur: psycopg2.extensions.cursor, models: dict[str, TrainedModel], as_of: datetime, *, full: bool = False
) -> ScoringPlan:
    """A full pass or the changed profiles (the module's rules), read in ``cur``'s transaction."""
    at = profile_changes.position(cur, CONSUMER)
    cur.execute(f"SELECT full_as_of, model_versions, btyd_fit FROM {STATE}")
    state = cur.fetchone()

    def everyone(reason: str) -> ScoringPlan:
        return ScoringPlan(None, reason, None, at.latest)

    if full:
        return everyone("a full refresh")
    if state is None:
        return everyone("no full pass recorded")
    full_as_of, versions, fit = state
    if versions != model_versions(models):
        return everyone("the models changed since the last full pass")
    if as_of < full_as_of or as_of.astimezone(UTC).date() != full_as_of.astimezone(UTC).date():
        return everyone(f"the last full pass was as of {full_as_of.isoformat()}, another day")
    if at.stale:
        return everyone("audience_events was rebuilt in full (or this consumer never read its log)")
    changed = profile_changes.changed_profiles(cur, at)
    reason = f"{len(changed)} profiles changed since the last scoring"
    return ScoringPlan(changed, reason, BtydFit.from_json(fit), at.latest)


def record_pass(
    cur: psycopg2.extensions.cursor, plan: ScoringPlan, models: dict[str, TrainedModel], as_of: datetime, fit: BtydFit
) -> None:
    """The consumer's generation, and for a full pass its clock, models and fit (same transaction)."""
    if plan.full:
        cur.execute(
            f"INSERT INTO {STATE} (full_as_of, model_versions, btyd_fit) VALUES (%s, %s, %s)"
            " ON CONFLICT (singleton) DO UPDATE SET full_as_of = excluded.full_as_of,"
            " model_versions = excluded.model_versions, btyd_fit = excluded.btyd_fit, updated_at = now()",
            (as_of, json.dumps(model_versions(models)), json.dumps(fit.to_json())),
        )
    profile_changes.record_consumed(cur, CONSUMER, plan.generation)

"""One clock per run: the ``as_of`` instant every time-dependent computation of a run uses.

Engagement windows, WTP and lifecycle inputs, RFM recency, health cadence, segment relative dates
and lookbacks, cohort windows, predictions and their ``valid_until``, and the dbt reports all read
the same instant, so a run's results never depend on how long its steps took or which step ran
first. In production it is the run's start time (the wall clock, fixed once per run); a backfill
or a demo pins it:

* per run, in the run config: ``resources: {clock: {config: {as_of: "2026-11-30T00:00:00Z"}}}``
  (the Launchpad in the UI, or ``audience refresh --as-of``);
* for every run of a process, with ``AUDIENCE_AS_OF`` (read by :mod:`audience_dagster.config`).
"""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
from pydantic import PrivateAttr

from audience_dagster.config import parse_as_of


def run_start_time(instance: dg.DagsterInstance, run_id: str) -> datetime:
    """When the run started (else was created); now when the instance does not know the run."""
    record = instance.get_run_record_by_id(run_id)
    if record is None:
        return datetime.now(UTC)
    if record.start_time is not None:
        return datetime.fromtimestamp(record.start_time, UTC)
    return record.create_timestamp.astimezone(UTC)


class RunClock(dg.ConfigurableResource):
    """The run's ``as_of``: ``as_of`` when given (ISO 8601), else the run's start time.

    Every step of a run resolves the same instant, also when steps run in separate processes
    (they read the same run record)."""

    as_of: str = ""
    _resolved: datetime | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if self.as_of:
            self._resolved = parse_as_of(self.as_of, "resources.clock.config.as_of")
        elif context.instance is not None and context.run is not None:
            self._resolved = run_start_time(context.instance, context.run.run_id)

    @property
    def now(self) -> datetime:
        """The run's as_of (aware, UTC)."""
        if self._resolved is None:  # used outside a run (a unit test): resolve once, here
            self._resolved = parse_as_of(self.as_of, "as_of") if self.as_of else datetime.now(UTC)
        return self._resolved


def clock_run_config(as_of: datetime | None) -> dict[str, object]:
    """The run-config fragment that pins a run's clock (empty: the run's start time)."""
    if as_of is None:
        return {}
    return {"resources": {"clock": {"config": {"as_of": as_of.astimezone(UTC).isoformat()}}}}


def last_tick(cron: str, as_of: datetime) -> datetime:
    """A cron's latest tick at or before ``as_of`` (UTC)."""
    # Dagster's own cron arithmetic (its schedules use it): the same ticks as a schedule's
    from dagster._utils.schedules import get_latest_completed_cron_tick

    return get_latest_completed_cron_tick(cron, as_of, "UTC")


def cadence_due(fitted_as_of: datetime, cron: str, as_of: datetime) -> tuple[bool, str]:
    """Whether something fitted as of ``fitted_as_of`` is refitted by a run as of ``as_of`` on the
    cadence ``cron``, and why: a tick fell between the two clocks, or it was fitted as of a later
    clock than the run's (a backfill must not use what saw its future)."""
    if fitted_as_of > as_of:
        return True, f"fitted as of {fitted_as_of.isoformat()}, later than this run's clock"
    tick = last_tick(cron, as_of)
    if fitted_as_of < tick:
        return True, f"fitted as of {fitted_as_of.isoformat()}, before the tick {tick.isoformat()}"
    return False, f"fitted as of {fitted_as_of.isoformat()}; refitted after the next tick of {cron!r}"

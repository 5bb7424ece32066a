"""``audience refresh`` / ``audience demo``: ingest, then rebuild exactly what is out of date.

1. Check the landing folder (missing → an error that says which setting to fix).
2. Take the warehouse's refresh lock (a second refresh queues behind it, or stops with
   ``--no-wait``), mark runs whose process is gone as failed, and wait for runs the UI or the
   daemon has in progress.
3. Run the ingest pass (job ``audience_ingest``). It materialises only when a new file arrived.
4. Select what is stale or missing — an asset whose inputs changed since it was built (new data
   version), whose code changed (dbt SQL, the segment YAML files), or that was never built, e.g.
   because a run was killed half-way — plus everything downstream of those, and run it as one
   run of ``audience_refresh`` with one clock (``as_of``). Nothing new and nothing stale:
   nothing runs. ``--full`` (alias ``--all``) runs the job ``audience_full_rebuild`` instead:
   everything after the ingest pass, out of date or not (the same job the UI launches).
   The prediction models are the exception to "stale → rebuilt": they retrain on the training
   cadence (:mod:`audience_dagster.predictions.cadence`), and the refreshes in between score
   with the promoted models.

Before any of this, ``audience refresh`` / ``demo`` compare the stamp the last successful refresh
left (:mod:`.stamp`): nothing it covers changed → "nothing new" without starting Dagster. Every
refresh that ends well here writes that stamp.

Both runs log one line per stage (:mod:`.progress`); their logs and dbt's output are in one
folder under ``$AUDIENCE_HOME/logs/``.
"""

from __future__ import annotations

import signal
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from audience_dagster.clock import clock_run_config
from audience_dagster.config import Settings
from audience_dagster.errors import IngestError, RunInProgressError
from audience_dagster.identity.keys import IDENTITY_MAP_KEY
from audience_dagster.ingest.assets import ingest
from audience_dagster.ingest.folders import LANDING_FOLDERS, landing_file_count
from audience_dagster.ingest.keys import LOADED_FILES_KEY
from audience_dagster.predictions.assets import MODELS_KEY
from audience_dagster.predictions.cadence import training_due
from audience_dagster.runs.lock import RefreshLock
from audience_dagster.runs.orphans import fail_orphaned_runs, process_tags
from audience_dagster.runs.progress import StageTime, stage_times
from audience_dagster.runs.stamp import note_before, stamp_after
from audience_dagster.runs.tags import AS_OF_TAG, LOG_DIR_TAG, REFRESH_TAG
from audience_dagster.warehouse.connection import Warehouse, connection

Report = Callable[[str], None]
ACTIVE = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class RefreshOptions:
    as_of: datetime | None = None  # None: AUDIENCE_AS_OF, else now
    rebuild_all: bool = False
    wait: bool = True
    wait_timeout_seconds: float | None = None
    label: str = "refresh"


@dataclass
class RefreshOutcome:
    ok: bool
    as_of: datetime
    log_dir: Path
    files_loaded: int = 0
    rebuilt: int = 0  # assets selected after the ingest pass
    run_ids: list[str] = field(default_factory=list)
    stages: list[StageTime] = field(default_factory=list)
    orphans_failed: list[str] = field(default_factory=list)

    @property
    def nothing_new(self) -> bool:
        return self.ok and self.files_loaded == 0 and self.rebuilt == 0


def ledger_files(url: str) -> int:
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM raw.loaded_files")
        return int(cur.fetchone()[0])


class NothingToLoad(IngestError):
    """An empty landing folder and nothing loaded before: a refresh has no work it could do."""


def check_landing(settings: Settings, warehouse: Warehouse) -> int:
    """The landing folder holds files, or some were loaded before; IngestError (missing folder)
    or NothingToLoad (empty, never loaded) otherwise."""
    files = landing_file_count(settings.landing_dir)
    if files == 0 and ledger_files(warehouse.url) == 0:
        raise NothingToLoad(
            f"no landing files in {settings.landing_dir} (expected {', '.join(f'{d}/' for d in LANDING_FOLDERS)}"
            " with *.jsonl or, for historical_orders/, *.csv) and nothing loaded before: nothing to do. "
            "Point AUDIENCE_LANDING_DIR at your files, or run `audience demo`"
        )
    return files


def wait_for_active_runs(instance: dg.DagsterInstance, report: Report, timeout_seconds: float | None) -> None:
    """Wait (polling the run storage every 2 s) until no run of the instance is in progress."""
    started, announced = time.monotonic(), set()
    while active := instance.get_runs(dg.RunsFilter(statuses=ACTIVE)):
        for run in active:
            if run.run_id not in announced:
                report(f"waiting for run {run.run_id[:8]} ({run.job_name}, {run.status.value.lower()}) to finish")
                announced.add(run.run_id)
        if timeout_seconds is not None and time.monotonic() - started > timeout_seconds:
            raise RunInProgressError(
                f"run {active[0].run_id} ({active[0].job_name}) is still in progress after {timeout_seconds:.0f}s;"
                " see the Dagster UI, or try again later"
            )
        time.sleep(2.0)


# Inputs Dagster does not see: tables people change by hand, read by one asset. The asset is out
# of date when the table changed after the asset's latest materialisation.
MANUAL_INPUTS: dict[dg.AssetKey, tuple[str, str]] = {
    IDENTITY_MAP_KEY: (
        "identity.manual_operations",
        "SELECT extract(epoch FROM max(requested_at)) FROM identity.manual_operations",
    ),
}


def changed_manual_inputs(url: str, instance: dg.DagsterInstance) -> set[dg.AssetKey]:
    """Assets whose hand-edited input (``MANUAL_INPUTS``) changed after they were last built."""
    found = set()
    with connection(url) as conn, conn.cursor() as cur:
        for key, (table, sql) in MANUAL_INPUTS.items():
            cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
            if not cur.fetchone()[0]:
                continue
            cur.execute(sql)
            changed_at = cur.fetchone()[0]
            latest = instance.get_latest_materialization_event(key)
            if changed_at is not None and (latest is None or float(changed_at) > latest.timestamp):
                found.add(key)
    return found


def stale_selection(
    asset_graph, instance: dg.DagsterInstance, exclude: set[dg.AssetKey], also: set[dg.AssetKey] = frozenset()
) -> set[dg.AssetKey]:
    """Assets that are stale or missing (Dagster's data-version bookkeeping) or in ``also``, and
    everything downstream of them, minus ``exclude``."""
    from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
    from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
    from dagster._core.storage.event_log.base import AssetRecord

    view = AssetGraphView(
        temporal_context=TemporalContext(effective_dt=datetime.now(UTC), last_event_id=None),
        instance=instance,
        asset_graph=asset_graph,
    )
    # one query for every asset's latest record instead of one per asset (the resolver asks one by one)
    AssetRecord.blocking_get_many(view, asset_graph.get_all_asset_keys())
    resolver = CachingStaleStatusResolver(instance=instance, asset_graph=asset_graph, loading_context=view)
    keys = asset_graph.materializable_asset_keys - exclude
    out_of_date = {k for k in keys if resolver.get_status(k) in (StaleStatus.STALE, StaleStatus.MISSING)}
    out_of_date |= set(also) & keys
    if not out_of_date:
        return set()
    return set(dg.AssetSelection.assets(*out_of_date).downstream().resolve(asset_graph)) - exclude


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """A SIGTERM (``kill``, a CI timeout) interrupts the run like Ctrl-C: steps end their dbt process
    and the run is recorded as failed instead of vanishing."""
    previous = signal.signal(signal.SIGTERM, lambda *_: signal.raise_signal(signal.SIGINT))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def check_steps(asset_graph) -> set[str]:
    """The steps that only run asset checks (no asset): the progress shows them only on failure."""
    return {ad.node_def.name for ad in asset_graph.assets_defs if not ad.keys and ad.check_keys}


def _execute(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    selection: set[dg.AssetKey] | None,
    tags: dict[str, str],
    run_config: dict,
    log_dir: Path,
    label: str = "",
) -> tuple[bool, str]:
    from audience_dagster.definitions import defs

    run_id = str(uuid.uuid4())
    subset = job.get_subset(asset_selection=selection) if selection is not None else job
    quiet = check_steps(defs.resolve_asset_graph())
    steps = {node.name for node in subset.graph.nodes}
    progress = {
        "total_steps": len(steps - quiet),
        "log_file": str(log_dir / "dagster.log"),
        "live": sys.stderr.isatty(),
        "label": label,
        "quiet_steps": sorted(steps & quiet),
    }
    result = job.execute_in_process(
        instance=instance,
        run_id=run_id,
        asset_selection=sorted(selection) if selection is not None else None,
        raise_on_error=False,
        tags=tags,
        run_config={**run_config, "loggers": {"progress": {"config": progress}}},
    )
    return result.success, run_id


def hold_storage_connections(instance: dg.DagsterInstance) -> None:
    """Keep the instance's storage connections open for the refresh. dagster-postgres opens a new
    connection for every event it stores (``NullPool``: a refresh stores thousands, each a
    PostgreSQL backend started and ended); its webserver mode pools one connection per storage
    (``optimize_for_webserver``), here without a statement timeout (0: a run's writes are never
    cut short). Other storages (SQLite) ignore it."""
    instance.optimize_for_webserver(statement_timeout=0, pool_recycle=3600, max_overflow=4)


def run_refresh(settings: Settings, warehouse: Warehouse, options: RefreshOptions, report: Report = stderr):
    """Ingest, then rebuild what is stale (see the module docstring); a :class:`RefreshOutcome`."""
    from audience_dagster.definitions import defs

    check_landing(settings, warehouse)
    with RefreshLock(warehouse.url, label=f"audience {options.label}").acquire(
        wait=options.wait, timeout_seconds=options.wait_timeout_seconds, report=report
    ):
        instance = dg.DagsterInstance.get()
        hold_storage_connections(instance)
        orphans = fail_orphaned_runs(instance)
        for run_id in orphans:
            report(f"run {run_id[:8]} was left in progress by a process that is gone: marked failed")
        wait_for_active_runs(instance, report, options.wait_timeout_seconds)
        as_of = options.as_of or settings.as_of or datetime.now(UTC).replace(microsecond=0)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        log_dir = settings.log_dir / f"{options.label}-{stamp}"
        log_dir.mkdir(parents=True, exist_ok=True)
        outcome = RefreshOutcome(ok=False, as_of=as_of, log_dir=log_dir, orphans_failed=orphans)
        report(f"[{options.label}] as of {as_of.isoformat()}; logs and dbt output in {log_dir}/")
        tags = {**process_tags(), LOG_DIR_TAG: str(log_dir), REFRESH_TAG: stamp, AS_OF_TAG: as_of.isoformat()}
        before = note_before(settings, warehouse)
        with sigterm_as_interrupt():
            ingest_job = defs.resolve_job_def("audience_ingest")
            ok, run_id = _execute(ingest_job, instance, None, tags, {}, log_dir, label="load")
            outcome.run_ids.append(run_id)
            outcome.stages += stage_times(instance, run_id)
            outcome.files_loaded = _files_loaded(instance, run_id)
            if not ok:
                return outcome
            job, selection, run_config = _rebuild_plan(defs, instance, warehouse.url, options, as_of)
            if not options.rebuild_all:
                selection = _on_cadence(selection, instance, settings, as_of, report)
            outcome.rebuilt = len(selection)
            if selection:
                ok, run_id = _execute(job, instance, selection, tags, run_config, log_dir)
                outcome.run_ids.append(run_id)
                outcome.stages += stage_times(instance, run_id)
            outcome.ok = ok
            if ok:  # what the next refresh compares with, to say "nothing new" without starting Dagster
                stamp_after(settings, warehouse, before, outcome.run_ids)
    return outcome


def _on_cadence(
    selection: set[dg.AssetKey], instance: dg.DagsterInstance, settings: Settings, as_of: datetime, report: Report
) -> set[dg.AssetKey]:
    """The selection without the prediction models unless their training is due
    (:func:`~audience_dagster.predictions.cadence.training_due`); the decision is reported."""
    if MODELS_KEY not in selection:
        return selection
    due, why = training_due(instance, MODELS_KEY, settings.models_dir, settings.training_cron, as_of)
    report(f"prediction models: {'retrain' if due else 'not retrained'} ({why})")
    return selection if due else selection - {MODELS_KEY}


def _rebuild_plan(
    defs: dg.Definitions, instance: dg.DagsterInstance, url: str, options: RefreshOptions, as_of: datetime
) -> tuple[dg.JobDefinition, set[dg.AssetKey], dict]:
    """What runs after the ingest pass: the job, its asset selection and its run config.
    ``--full``: every asset of ``audience_full_rebuild`` (all but the ingest pass), with its YAML
    resync; otherwise what is stale (and downstream) in ``audience_refresh``."""
    from audience_dagster.runs.definitions import FULL_REBUILD_JOB, FULL_REBUILD_OPS_CONFIG

    run_config = clock_run_config(as_of)
    graph = defs.resolve_asset_graph()
    if options.rebuild_all:
        everything = set(graph.materializable_asset_keys) - set(ingest.keys)
        return defs.resolve_job_def(FULL_REBUILD_JOB), everything, {**run_config, "ops": FULL_REBUILD_OPS_CONFIG}
    changed = changed_manual_inputs(url, instance)
    selection = stale_selection(graph, instance, set(ingest.keys), changed)
    return defs.resolve_job_def("audience_refresh"), selection, run_config


def _files_loaded(instance: dg.DagsterInstance, run_id: str) -> int:
    """Files the ingest run loaded (from the ledger asset's materialisation metadata)."""
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        materialization = record.asset_materialization
        if materialization and materialization.asset_key == LOADED_FILES_KEY:
            value = materialization.metadata.get("files_loaded")
            return int(value.value) if value is not None else 0
    return 0

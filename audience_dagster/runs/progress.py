"""Progress you can read: one line per stage on the terminal, everything else in a log file.

:func:`progress_logger` is a Dagster logger (Definitions' ``loggers``) the CLI selects in its run
config instead of the console logger: for each step it prints one line — what, how far
(``[3/12]``), how long — and on a terminal keeps that line ticking while the step runs, with the
step's latest message (training a model, loading a file). Warnings and failures get a line of
their own; every record goes to ``<log dir>/dagster.log`` (dbt's own output goes to
``dbt.log`` beside it, see :mod:`audience_dagster.transform.dbt`). :func:`stage_times` reads
back what each step took, for the summary.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from dataclasses import dataclass
from typing import TextIO

import dagster as dg

STEP_EVENTS = {
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.STEP_SKIPPED,
    dg.DagsterEventType.ASSET_MATERIALIZATION,
}


def elapsed(seconds: float) -> str:
    """``42.1s``, ``3m07s``, ``1h02m``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def stage_name(step_key: str) -> str:
    return step_key.replace("__", "/")


class StageProgress(logging.Handler):
    """Turns Dagster's step events into one line per stage (and a live line on a terminal)."""

    def __init__(
        self, total: int, stream: TextIO, live: bool, label: str = "", quiet: frozenset[str] = frozenset()
    ) -> None:
        super().__init__(logging.DEBUG)
        self.total, self.stream, self.live, self.label = max(total, 1), stream, live, label
        self.quiet = quiet  # steps shown only when they fail (the score range checks)
        self.started = time.monotonic()
        self.count = 0
        self.current: tuple[str, float] | None = None
        self.note = ""
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)
        with self._lock:
            if event is None:
                self._message(record)
            elif event.step_key in self.quiet:
                if event.event_type_value == "STEP_FAILURE":
                    self._write(f"{self._clear()}    ! {stage_name(event.step_key)} FAILED\n")
                    self._render()
            elif event.event_type_value == "STEP_START":
                self._start(event.step_key or "?")
            elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
                self._finish(event)

    def _message(self, record: logging.LogRecord) -> None:
        text = str(getattr(record, "dagster_meta", {}).get("orig_message") or record.getMessage())
        first = text.strip().splitlines()[0][:160] if text.strip() else ""
        if record.levelno >= logging.WARNING and first:
            self._write(f"    ! {first}\n")
        elif first:
            self.note = first[:70]

    def _prefix(self) -> str:
        if self.label:
            return f"[{self.label}]"
        width = len(str(self.total))
        return f"[{self.count:>{width}}/{self.total}]"

    def _start(self, step_key: str) -> None:
        self.count += 1
        self.current, self.note = (step_key, time.monotonic()), ""
        if self.live:
            self._render()
            if self._ticker is None:
                self._ticker = threading.Thread(target=self._tick, name="audience-progress", daemon=True)
                self._ticker.start()
        else:
            self._write(f"{self._prefix()} {stage_name(step_key)} …\n")

    def _finish(self, event: dg.DagsterEvent) -> None:
        step = event.step_key or "?"
        started = self.current[1] if self.current and self.current[0] == step else time.monotonic()
        took = time.monotonic() - started
        if event.event_type_value == "STEP_SKIPPED":
            if not self.current or self.current[0] != step:
                self.count += 1
            outcome = "skipped: nothing new upstream"
        elif event.event_type_value == "STEP_FAILURE":
            error = event.step_failure_data.error if event.step_failure_data else None
            cause = (error.cause or error) if error else None
            message = cause.message.strip().splitlines()[0][:200] if cause and cause.message.strip() else "failed"
            outcome = f"FAILED after {elapsed(took)}: {message}"
        else:
            outcome = f"done in {elapsed(took)}"
        self.current, self.note = None, ""
        total = elapsed(time.monotonic() - self.started)
        self._write(f"{self._clear()}{self._prefix()} {stage_name(step):34s} {outcome}  (total {total})\n")

    def _clear(self) -> str:
        return "\r\x1b[K" if self.live else ""

    def _render(self) -> None:
        if self.current is None:
            return
        step, started = self.current
        note = f" · {self.note}" if self.note else ""
        line = f"{self._prefix()} {stage_name(step):34s} {elapsed(time.monotonic() - started)}{note}"
        self.stream.write(f"\r\x1b[K{line[:200]}")
        self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                self._render()

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def close(self) -> None:
        self._stop.set()
        super().close()


class _Plain(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        moment = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(record.created))
        return f"{moment} {record.levelname:7s} {record.getMessage()}"


@dg.logger(
    config_schema={
        "total_steps": dg.Field(int, default_value=0),
        "log_file": dg.Field(str, default_value=""),
        "live": dg.Field(bool, default_value=False),
        "label": dg.Field(str, default_value="", description="shown instead of [k/n]"),
        "quiet_steps": dg.Field([str], default_value=[], description="steps shown only when they fail"),
    },
    description="One line per stage on stderr (live on a terminal); every record to log_file.",
)
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    config = init_context.logger_config
    logger = logging.Logger("audience.progress", level=logging.DEBUG)
    quiet = frozenset(config["quiet_steps"])
    logger.addHandler(StageProgress(config["total_steps"], sys.stderr, config["live"], config["label"], quiet))
    if config["log_file"]:
        handler = logging.FileHandler(config["log_file"], encoding="utf-8")
        handler.setFormatter(_Plain())
        logger.addHandler(handler)
    return logger


@dataclass(frozen=True)
class StageTime:
    step: str
    outcome: str  # done, failed, skipped
    seconds: float
    materialized: int


def stage_times(instance: dg.DagsterInstance, run_id: str) -> list[StageTime]:
    """What each step of a run did and took, in the order the steps started."""
    started: dict[str, float] = {}
    finished: dict[str, tuple[str, float]] = {}
    materialized: dict[str, int] = {}
    for record in instance.all_logs(run_id, of_type=STEP_EVENTS):
        event, step = record.dagster_event, record.step_key or "?"
        kind = event.event_type_value if event else ""
        if kind == "STEP_START":
            started.setdefault(step, record.timestamp)
        elif kind == "ASSET_MATERIALIZATION":
            materialized[step] = materialized.get(step, 0) + 1
        elif kind:
            outcome = {"STEP_SUCCESS": "done", "STEP_FAILURE": "failed", "STEP_SKIPPED": "skipped"}[kind]
            finished[step] = (outcome, record.timestamp)
    order = sorted(finished, key=lambda s: started.get(s, finished[s][1]))
    return [
        StageTime(s, finished[s][0], finished[s][1] - started.get(s, finished[s][1]), materialized.get(s, 0))
        for s in order
    ]

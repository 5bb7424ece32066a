"""``generate``: run every chunk (in a process pool if asked), then assemble the ground truth."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from audience_dagster.sample_data.chunk import (
    LANDING_DIRS,
    PARTS_DIR,
    SOURCES,
    ChunkResult,
    ChunkTask,
    run_chunk,
)
from audience_dagster.sample_data.encode import iso_ms
from audience_dagster.sample_data.params import CHUNK_PEOPLE, GENERATOR_VERSION, GenerationParams, default_end
from audience_dagster.sample_data.truth import TRUTH_COLUMNS, merge_fragments


@dataclass(frozen=True)
class GenerationReport:
    """What :func:`generate` wrote. Counts are valid records (no duplicates, no malformed)."""

    people: int
    counts: dict[str, int]
    duplicates: dict[str, int]
    malformed: dict[str, int]
    files: list[Path]
    seconds: float

    @property
    def events(self) -> int:
        """Valid records in the four event sources (Segment, SendGrid, Shopify, social)."""
        return sum(v for k, v in self.counts.items() if k != "historical_order_rows")


def _clear_previous_output(out_dir: Path) -> None:
    """Remove files an earlier run left in the directories this generator owns."""
    for sub in LANDING_DIRS.values():
        folder = out_dir / "landing" / sub
        for pattern in ("part-*.jsonl", "orders-*.csv"):
            for path in folder.glob(pattern):
                path.unlink()
    truth = out_dir / "truth"
    shutil.rmtree(truth / PARTS_DIR, ignore_errors=True)
    for name in ("identifiers", "people", "holdout_orders", "malformed", "junk_identifiers"):
        (truth / f"{name}.csv").unlink(missing_ok=True)
    (truth / "manifest.json").unlink(missing_ok=True)


def generate(
    people: int,
    seed: int,
    out_dir: Path,
    *,
    end: date | None = None,
    history_days: int = 540,
    holdout_days: int = 365,
    malformed_rate: float = 0.0002,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    chunk_people: int = CHUNK_PEOPLE,
) -> GenerationReport:
    """Write realistic landing files and their ground truth for ``people`` simulated people.

    The output depends only on (people, seed, end, history_days, holdout_days,
    malformed_rate, chunk_people): not on ``workers``. ``progress(done_chunks, total_chunks)``
    is called as chunks finish. Observed data covers the days ``(end - history_days, end]``;
    the holdout (ground truth only) the ``holdout_days`` after ``end``. ``end`` defaults to
    yesterday (:func:`~audience_dagster.sample_data.params.default_end`): the data ends when it
    is generated; pass a date for output that does not depend on the day.
    """
    began = time.perf_counter()
    end = end or default_end()
    params = GenerationParams(
        people=people,
        seed=seed,
        end=end,
        history_days=history_days,
        holdout_days=holdout_days,
        malformed_rate=malformed_rate,
        chunk_people=chunk_people,
    )
    params.validate()
    out_dir = Path(out_dir)
    _clear_previous_output(out_dir)
    for sub in LANDING_DIRS.values():
        (out_dir / "landing" / sub).mkdir(parents=True, exist_ok=True)
    (out_dir / "truth" / PARTS_DIR).mkdir(parents=True, exist_ok=True)

    tasks = [ChunkTask(params=params, chunk=i, out_dir=str(out_dir)) for i in range(params.chunks)]
    results = _run_chunks(tasks, workers, progress)

    truth = out_dir / "truth"
    truth_files = merge_fragments(truth / PARTS_DIR, truth, len(tasks))
    junk = sorted(set().union(*(r.junk for r in results)))
    junk_path = truth / "junk_identifiers.csv"
    with junk_path.open("w", encoding="utf-8", newline="\n") as f:
        f.write("identifier_type,identifier_value\n")
        f.writelines(f"{kind},{value}\n" for kind, value in junk)

    def total(field: str) -> dict[str, int]:
        return {s: sum(getattr(r, field)[s] for r in results) for s in SOURCES}

    landing = [f for r in results for f in r.files]
    relative = (
        sorted(landing)
        + [str(p.relative_to(out_dir)) for p in truth_files]
        + ["truth/junk_identifiers.csv", "truth/manifest.json"]
    )
    counts, duplicates, malformed = total("counts"), total("duplicates"), total("malformed")
    manifest = _manifest(params, counts, duplicates, malformed, relative)
    (truth / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return GenerationReport(
        people=people,
        counts=counts,
        duplicates=duplicates,
        malformed=malformed,
        files=[out_dir / f for f in relative],
        seconds=time.perf_counter() - began,
    )


def _run_chunks(tasks: list[ChunkTask], workers: int, progress: Callable[[int, int], None] | None) -> list[ChunkResult]:
    """Every chunk, on ``workers`` processes (spawned) or in this one; results in chunk order."""
    results: list[ChunkResult] = []
    if workers > 1 and len(tasks) > 1:
        context = multiprocessing.get_context("spawn")
        with context.Pool(min(workers, len(tasks))) as pool:
            for result in pool.imap_unordered(run_chunk, tasks):
                results.append(result)
                if progress is not None:
                    progress(len(results), len(tasks))
    else:
        for task in tasks:
            results.append(run_chunk(task))
            if progress is not None:
                progress(len(results), len(tasks))
    results.sort(key=lambda r: r.chunk)
    return results


def _manifest(
    params: GenerationParams,
    counts: dict[str, int],
    duplicates: dict[str, int],
    malformed: dict[str, int],
    relative: list[str],
) -> dict[str, object]:
    """``truth/manifest.json``: the parameters, the window, the counts and every file written."""
    window = params.window
    return {
        "generator": "audience_dagster.sample_data",
        "generator_version": GENERATOR_VERSION,
        "parameters": {
            "people": params.people,
            "seed": params.seed,
            "end": params.end.isoformat(),
            "history_days": params.history_days,
            "holdout_days": params.holdout_days,
            "malformed_rate": params.malformed_rate,
            "chunk_people": params.chunk_people,
        },
        "window": dict(
            zip(
                ("observed_from", "observed_until", "holdout_until", "shopify_from"),
                iso_ms(np.asarray([window.start, window.end, window.holdout_end, window.shopify_from])),
                strict=True,
            )
        ),
        "counts": counts,
        "duplicates": duplicates,
        "malformed": malformed,
        "files": relative,
        "truth_columns": TRUTH_COLUMNS,
    }

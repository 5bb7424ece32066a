"""The refresh bench's increments, on a tiny generated sample (no warehouse): the split loses and
duplicates nothing, each increment is ~1% of what was loaded before it, from the latest stretch
of the sample plus late records, and its counts of identifies that link earlier anonymous ids
agree with a count made from the files themselves."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from audience_dagster.bench.increments import LATE_LOOKBACK_SECONDS, TIME_FIELDS, deliver, record_time, split_landing
from audience_dagster.bench.refresh import between_ticks_cron, describe_split, stage_table
from audience_dagster.clock import cadence_due, last_tick
from audience_dagster.ingest.landing import find_landing_files


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from audience_dagster.sample_data import generate

    out = tmp_path_factory.mktemp("increments_sample")
    generate(400, 11, out, end=date(2026, 10, 31), malformed_rate=0.002)
    return out / "landing"


@pytest.fixture(scope="module")
def split(sample: Path, tmp_path_factory: pytest.TempPathFactory):
    return split_landing(sample, tmp_path_factory.mktemp("split") / "bench", increments=3, share=0.01, seed=5)


def lines_under(root: Path) -> Counter[bytes]:
    found: Counter[bytes] = Counter()
    for source in TIME_FIELDS:
        for path in find_landing_files(root / source, "jsonl"):
            found.update(line.rstrip(b"\n") for line in path.read_bytes().splitlines())
    return found


def test_the_split_keeps_every_line_exactly_once(sample: Path, split) -> None:
    parts = lines_under(split.landing)
    for folder in split.increments:
        parts.update(lines_under(folder))
    assert parts == lines_under(sample)
    assert sum(f.records for f in split.figures) + split.base_records == sum(lines_under(sample).values())
    orders = sorted(p.name for p in (sample / "historical_orders").iterdir())
    assert sorted(p.name for p in (split.landing / "historical_orders").iterdir()) == orders


def test_each_increment_is_about_one_percent_of_what_was_loaded_before(split) -> None:
    loaded = split.base_records
    for figures in split.figures:
        assert 0.008 <= figures.records / loaded <= 0.0125, (figures.records, loaded)
        assert 0 < figures.late < figures.records * 0.2
        loaded += figures.records


def test_increments_are_the_latest_stretch_plus_late_records(split) -> None:
    cutoff = split.cutoff
    base_times = [record_time(src, line)[0] for src, line in _records(split.landing)]
    assert max(t for t in base_times if t == t) <= split.figures[0].start  # NaN: malformed, in the base
    previous_end = cutoff
    for folder, figures in zip(split.increments, split.figures, strict=True):
        times = [record_time(src, line)[0] for src, line in _records(folder)]
        late = [t for t in times if t < cutoff]
        assert len(late) == figures.late
        assert all(t >= cutoff - LATE_LOOKBACK_SECONDS for t in late)
        recent = [t for t in times if t >= cutoff]
        assert min(recent) >= previous_end - 1e-6 and max(recent) == figures.end
        previous_end = figures.end


def test_malformed_lines_stay_in_the_base(sample: Path, split) -> None:
    unreadable = [line for src, line in _records(sample) if record_time(src, line)[1] is None]
    assert unreadable  # the sample has some
    base = lines_under(split.landing)
    assert all(base[line.rstrip(b"\n")] for line in unreadable)


def test_identifies_linking_earlier_anonymous_ids_are_counted_from_the_files(split) -> None:
    seen = set()
    for _, line in _records(split.landing, "segment"):
        record = record_time("segment", line)[1]
        if record and not record.get("userId") and record.get("anonymousId"):
            seen.add(record["anonymousId"])
    total = 0
    for folder, figures in zip(split.increments, split.figures, strict=True):
        records = [orjson.loads(line) for _, line in _records(folder, "segment")]
        identifies = [r for r in records if r.get("type") == "identify"]
        assert figures.identifies == len(identifies)
        assert figures.identifies_linking_anonymous == sum(r.get("anonymousId") in seen for r in identifies)
        total += figures.identifies_linking_anonymous
        seen |= {r["anonymousId"] for r in records if not r.get("userId") and r.get("anonymousId")}
    assert total > 0
    described, closing = describe_split(split)
    assert described.count("linking earlier anonymous ids") == 3
    assert closing["increment_identifies_linking_anonymous"] == total


def test_delivering_an_increment_adds_its_files_to_the_landing_folder(split, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    deliver(split.increments[0], landing)
    assert lines_under(landing) == lines_under(split.increments[0])
    assert {p.name for p in landing.rglob("*.jsonl")} == {"increment-001.jsonl"}


def test_the_stage_table_has_a_row_per_step_and_a_column_per_refresh() -> None:
    table = stage_table({"full": {"dbt_profiles": 10.0, "ingest": 2.0}, "noop": {"ingest": 0.5}})
    lines = table.splitlines()
    assert lines[0].split() == ["stage", "full", "noop"]
    assert lines[1].split() == ["dbt_profiles", "10.0", "-"]
    assert lines[-1].split() == ["(sum)", "12.0", "0.5"]


def _records(root: Path, only: str | None = None):
    for source in TIME_FIELDS:
        if only and source != only:
            continue
        for path in find_landing_files(root / source, "jsonl"):
            with path.open("rb") as handle:
                for line in handle:
                    yield source, line


@pytest.mark.parametrize(
    "base_end", [datetime(2026, 11, 29, 19, 46, 10, tzinfo=UTC), datetime(2028, 3, 1, 0, 5, tzinfo=UTC)]
)
def test_the_bench_trains_at_the_full_build_and_not_in_the_increments(base_end: datetime) -> None:
    cron = between_ticks_cron(base_end)
    assert last_tick(cron, base_end) == base_end.replace(second=0) - timedelta(days=1)
    for hours in (1, 52, 24 * 30):  # an increment's clock: trained as of the base's end, not due
        assert cadence_due(base_end, cron, base_end + timedelta(hours=hours))[0] is False

"""The collector in Dagster: the intake sensor observes collector/intake and loads waiting files."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from audience_dagster.collector.definitions import INTAKE_KEY, build_collector_definitions
from audience_dagster.config import load_settings
from audience_dagster.ingest.loader import load_source
from audience_dagster.ingest.sources import SEGMENT
from audience_dagster.warehouse.resource import LandingZone, WarehouseResource
from tests.collector.conftest import clean_landing, fresh_warehouse
from tests.conftest import write_lines

pytestmark = pytest.mark.integration

GOOD = (
    '{"type":"page","messageId":"%s","anonymousId":"a1","timestamp":"2026-03-01T10:00:00Z",'
    '"receivedAt":"2026-03-01T10:00:01Z"}'
)


def evaluate(url: str, landing: Path) -> dg.SensorResult:
    [sensor] = build_collector_definitions(load_settings()).sensors
    context = dg.build_sensor_context(
        resources={"warehouse": WarehouseResource(database_url=url), "landing": LandingZone(path=str(landing))}
    )
    return sensor(context)


@pytest.fixture()
def landing(warehouse_url: str) -> Iterator[Path]:
    yield fresh_warehouse(warehouse_url)
    clean_landing()


def test_the_sensor_observes_the_intake_and_asks_for_ingest_only_when_files_wait(
    warehouse_url: str, landing: Path
) -> None:
    published = landing / "segment" / "collector"
    write_lines(published / "20260301T100000000000Z-aaaa.jsonl", [GOOD % "m1", GOOD % "m2", '{"type":"page"}'])
    load_source(warehouse_url, SEGMENT, landing, future_tolerance=timedelta(days=1))
    write_lines(published / "20260301T100100000000Z-bbbb.jsonl", [GOOD % "m3", GOOD % "m1"])
    write_lines(landing / "segment" / "collector" / "20260301T100200000000Z-cccc.jsonl.part", [GOOD % "m9"])

    result = evaluate(warehouse_url, landing)
    [request] = result.run_requests
    assert request.asset_selection == [dg.AssetKey(["raw", "segment_messages"])]
    [observation] = result.asset_events
    assert observation.asset_key == INTAKE_KEY
    meta = {k: getattr(v, "value", v) for k, v in observation.metadata.items()}
    assert meta["segment_files_waiting"] == 1  # the .part file is not published: not counted
    assert meta["segment_events_received"] == 5 and meta["segment_events_waiting"] == 2
    assert meta["segment_quarantined"] == 1 and meta["sendgrid_events_received"] == 0
    assert "missing required field" in meta["quarantine_reasons"]

    load_source(warehouse_url, SEGMENT, landing, future_tolerance=timedelta(days=1))
    again = evaluate(warehouse_url, landing)
    assert again.run_requests == []  # nothing waits
    meta = {k: getattr(v, "value", v) for k, v in again.asset_events[0].metadata.items()}
    assert meta["segment_files_waiting"] == 0 and meta["segment_events_received"] == 5


def test_the_intake_is_in_the_code_location() -> None:
    from audience_dagster.definitions import defs

    repository = defs.get_repository_def()
    assert INTAKE_KEY in repository.asset_graph.get_all_asset_keys()
    sensor = repository.get_sensor_def("collector_intake")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING

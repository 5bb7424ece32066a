"""The activation assets under real Dagster materialisation: a destination asset delivers and
reports its counts, and its ``no_dead_letters`` check fails when the endpoint keeps failing; a bad
YAML file fails its own asset only."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from audience_dagster.activation.definitions import build_activation_definitions, destination_key
from audience_dagster.clock import RunClock
from audience_dagster.config import load_settings
from audience_dagster.warehouse.resource import WarehouseResource

pytestmark = pytest.mark.integration


def definitions(tmp_path: Path, receiver_url: str) -> dg.Definitions:
    folder = tmp_path / "destinations"
    folder.mkdir()
    (folder / "vip-files.yaml").write_text("slug: vip-files\nname: VIP files\nsegment: vip\nkind: file\n")
    (folder / "vip-hook.yaml").write_text(
        f"slug: vip-hook\nsegment: vip\nkind: webhook\nsettings:\n  url: {receiver_url}/hook\n  secret: hook\n"
    )
    (folder / "broken.yaml").write_text("slug: broken\nsegment: vip\nkind: carrier-pigeon\n")
    (folder / "paused.yaml").write_text(
        "slug: paused\nsegment: vip\nkind: webhook\nstatus: paused\n"
        "settings:\n  url: https://x.example\n  secret: unset\n"
    )
    settings = load_settings(
        {
            "AUDIENCE_HOME": str(tmp_path / "home"),
            "AUDIENCE_ACTIVATION_DESTINATIONS_DIR": str(folder),
            "AUDIENCE_ACTIVATION_OUTPUT_DIR": str(tmp_path / "out"),
            "AUDIENCE_ACTIVATION_SECRET_HOOK": "whsec",
            "AUDIENCE_ACTIVATION_MAX_ATTEMPTS": "2",
            "AUDIENCE_ACTIVATION_BACKOFF_SECONDS": "0",
        }
    )
    return build_activation_definitions(settings)


def materialise(defs: dg.Definitions, shop, slug: str) -> dg.ExecuteInProcessResult:
    asset = next(a for a in defs.assets if destination_key(slug) in a.keys)
    return dg.materialize(
        [asset],
        resources={
            "warehouse": WarehouseResource(database_url=shop.url),
            "clock": RunClock(as_of="2026-11-30T00:00:00Z"),
        },
        raise_on_error=False,
    )


def test_destination_assets_report_counts_and_fail_their_check_on_dead_letters(shop, receiver, tmp_path: Path):
    for name in ("ann", "bob"):
        shop.add_person(name)
    shop.add_person("eve", consent=False)
    shop.join("ann", "bob", "eve")
    defs = definitions(tmp_path, receiver.url)

    files = materialise(defs, shop, "vip-files")
    assert files.success
    metadata = files.asset_materializations_for_node(files.all_node_events[0].node_name)[0].metadata
    assert (metadata["entered"].value, metadata["sent"].value, metadata["skipped_no_consent"].value) == (2, 2, 1)
    [check] = files.get_asset_check_evaluations()
    assert check.passed
    assert (tmp_path / "out" / "vip-files" / "snapshot.csv").exists()

    receiver.default = 503
    hook = materialise(defs, shop, "vip-hook")
    [check] = hook.get_asset_check_evaluations()
    assert not check.passed and "dead-lettered" in (check.description or "")
    assert len(receiver.requests) == 2  # two attempts, then the dead letter

    receiver.requests.clear()
    paused = materialise(defs, shop, "paused")  # no secret set: a paused destination needs none
    assert paused.success and not receiver.requests

    broken = materialise(defs, shop, "broken")
    assert not broken.success  # the bad file fails alone; the others were built above
    assert "carrier-pigeon" in str(broken.all_events)

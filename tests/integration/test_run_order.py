"""The job's order comes from what each step reads: derived from the Definitions, not hoped for.

Every asset but the collector's intake (an observation of the server by a sensor, which no
step reads) is executable (no declared-but-unmaterialised tables between steps), every
dependency is an asset of the job, and the execution plan (Dagster's toposort of the asset
graph) puts the predictions before the ML segments, the scores before the profile view's dbt
tests, the segments before the reports. Groups follow capabilities and every asset has kinds.
"""

from __future__ import annotations

import dagster as dg
import pytest
from dagster._core.execution.api import create_execution_plan

from audience_dagster.collector.definitions import INTAKE_KEY
from audience_dagster.runtime import prepare_runtime

pytestmark = pytest.mark.integration

CAPABILITIES = (
    "collector",
    "ingest",
    "identity",
    "profiles",
    "scoring",
    "predictions",
    "segments",
    "reports",
    "activation",
)


@pytest.fixture(scope="module")
def defs(warehouse_url: str) -> dg.Definitions:
    prepare_runtime()
    from audience_dagster.definitions import defs

    return defs


def step_order(defs: dg.Definitions) -> list[str]:
    plan = create_execution_plan(defs.resolve_job_def("audience_refresh"))
    return [step.key for step in plan.get_steps_to_execute_in_topo_order()]


def step_of(defs: dg.Definitions, key: dg.AssetKey | dg.AssetCheckKey) -> str:
    """The step (node) that materialises an asset or evaluates a check."""
    return defs.resolve_asset_graph().assets_def_for_key(key).node_def.name


def test_every_table_a_step_reads_is_materialised_by_the_job(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    job_keys = set(defs.resolve_job_def("audience_refresh").asset_layer.selected_asset_keys)
    # the one exception: what `audience serve` took in, observed by the collector_intake sensor
    # (the server is no step); no step reads it
    assert not graph.get(INTAKE_KEY).child_keys
    for key in graph.get_all_asset_keys() - {INTAKE_KEY}:
        node = graph.get(key)
        assert node.is_materializable, f"{key.to_user_string()} is declared but no step materialises it"
        assert key in job_keys, key
        for parent in node.parent_keys:
            assert graph.get(parent).is_materializable, f"{key.to_user_string()} reads {parent.to_user_string()}"


def test_execution_order_follows_what_each_step_reads(defs: dg.Definitions) -> None:
    order = step_order(defs)
    position = {step: i for i, step in enumerate(order)}
    predictions = step_of(defs, dg.AssetKey(["predictions", "profile_predictions"]))
    ml_segments = step_of(defs, dg.AssetKey(["segments", "segment_membership"]))
    scores = step_of(defs, dg.AssetKey(["scoring", "profile_scores"]))
    profile_view = step_of(defs, dg.AssetKey(["marts", "audience_profiles"]))
    # the step that runs the dbt tests of audience_profiles
    view_tests = {
        step_of(defs, check)
        for check in defs.resolve_asset_graph().asset_check_keys
        if check.asset_key == dg.AssetKey(["marts", "audience_profiles"])
    }
    assert view_tests == {profile_view}
    assert position[predictions] < position[ml_segments]
    assert position[scores] < position[profile_view] < position[ml_segments]
    assert position[predictions] < position[profile_view]
    chain = [
        "ingest",
        step_of(defs, dg.AssetKey(["staging", "stg_segment__tracks"])),
        step_of(defs, dg.AssetKey(["identity", "identity_map"])),
        step_of(defs, dg.AssetKey(["marts", "audience_profile_base"])),
        scores,
        profile_view,
        ml_segments,
        step_of(defs, dg.AssetKey(["marts", "report_segment_performance"])),
    ]
    assert [position[s] for s in chain] == sorted(position[s] for s in chain)
    # the score range checks (blocking) run before the profile view reads the scores
    for check in defs.resolve_asset_graph().asset_check_keys:
        if check.asset_key.path[0] == "scoring":
            assert position[step_of(defs, check)] < position[profile_view], check


def test_groups_are_capabilities_and_every_asset_has_kinds(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    rank = {group: i for i, group in enumerate(CAPABILITIES)}
    view = dg.AssetKey(["marts", "audience_profiles"])
    suggestions = dg.AssetKey(["identity", "duplicate_suggestions"])
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name in rank, key
        assert node.kinds, f"{key.to_user_string()} has no kinds"
        for parent in node.parent_keys:
            # left to right: nothing reads a later capability, except the spec's profile view
            # (profiles), which shows the scores and predictions, and identity's fuzzy duplicate
            # suggestions, which compare the built profiles (a review queue: nothing reads it)
            if key not in (view, suggestions):
                assert rank[graph.get(parent).group_name] <= rank[node.group_name], (parent, key)
    assert graph.get(dg.AssetKey(["staging", "stg_segment__tracks"])).group_name == "ingest"
    assert graph.get(dg.AssetKey(["intermediate", "int_identity_edges"])).group_name == "identity"
    assert graph.get(dg.AssetKey(["marts", "report_segment_performance"])).group_name == "reports"
    assert not graph.get(suggestions).child_keys


def test_every_warehouse_step_is_in_the_one_slot_pool(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    for assets_def in graph.assets_defs:
        # asset steps write the warehouse; the check-only steps only read
        if assets_def.keys and assets_def.is_executable:
            assert assets_def.node_def.pool == "warehouse", assets_def.node_def.name

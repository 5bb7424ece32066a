"""Stable profile-id assignment (pure pandas): keep, merge, split, retire."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd

from audience_dagster.identity.profile_ids import assign_profile_ids, empty_registry, new_uuids

NOW = pd.Timestamp("2026-11-01", tz="UTC")


def frame(rows: list[tuple[str, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "identifier_type": [r[0].split(":")[0] for r in rows],
            "identifier_value": [r[0].split(":")[1] for r in rows],
            "label": [r[1] for r in rows],
        }
    )


def previous(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    out = frame([(r[0], 0) for r in rows]).drop(columns="label")
    out["profile_id"] = [r[1] for r in rows]
    out["first_seen_at"] = pd.to_datetime([r[2] for r in rows], utc=True)
    return out


def registry(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "profile_id": ids,
            "created_at": NOW,
            "status": "active",
            "merged_into": None,
            "retired_at": pd.NaT,
            "current_profile_id": ids,
        }
    )


def test_new_uuids_are_distinct_version_4_uuids() -> None:
    ids = new_uuids(1000, np.random.default_rng(0))
    parsed = [uuid.UUID(i) for i in ids]
    assert len(set(ids)) == 1000 and {p.version for p in parsed} == {4} and str(parsed[0]) == ids[0]


def test_first_build_issues_one_id_per_component() -> None:
    result = assign_profile_ids(
        frame([("user_id:a", 1), ("email:a", 1), ("user_id:b", 2)]), previous([]), empty_registry(), NOW
    )
    assert result.profile_id[0] == result.profile_id[1] != result.profile_id[2]
    assert result.counts["new_profiles"] == 2 and set(result.registry["status"]) == {"active"}


def test_split_records_where_the_identifiers_came_from_and_the_bigger_part_keeps_the_id() -> None:
    prev = previous([("user_id:a", "P", "2026-01-01"), ("email:a", "P", "2026-01-01"), ("email:b", "P", "2026-01-01")])
    current = frame([("user_id:a", 1), ("email:a", 1), ("email:b", 2)])
    result = assign_profile_ids(current, prev, registry(["P"]), NOW)
    assert result.profile_id.tolist()[:2] == ["P", "P"] and result.profile_id[2] != "P"
    (split,) = result.merges.itertuples(index=False)
    assert (split.kind, split.retired_profile_id, split.survivor_profile_id) == ("split", "P", result.profile_id[2])
    assert result.counts["split_profiles"] == 1


def test_merged_id_chain_points_at_the_final_survivor() -> None:
    reg = registry(["A", "B"])
    reg.loc[1, ["status", "merged_into", "current_profile_id"]] = ["merged", "A", "A"]  # B merged into A earlier
    prev = previous([("email:a", "A", "2026-02-01"), ("email:c", "C", "2026-01-01")])
    reg = pd.concat([reg, registry(["C"])], ignore_index=True)
    result = assign_profile_ids(frame([("email:a", 1), ("email:c", 1)]), prev, reg, NOW)
    assert set(result.profile_id) == {"C"}  # C was seen first
    current = dict(zip(result.registry["profile_id"], result.registry["current_profile_id"], strict=True))
    assert current == {"A": "C", "B": "C", "C": "C"}

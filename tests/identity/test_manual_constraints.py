"""Manual decisions in the pure solver: keep-apart pairs (unmerge) and merge groups (manual merge)."""

from __future__ import annotations

import numpy as np
import pytest

from audience_dagster.identity.graph import ManualConstraints, resolve_identities
from tests.identity.test_graph import dropped, resolve


def ids(*nodes: int) -> np.ndarray:
    return np.array(nodes, dtype=np.int64)


NODES = ["user_id:u1", "email:a@x.io", "email:b@x.io", "anonymous_id:d1", "anonymous_id:d2"]
EDGES = [
    ("user_id:u1", "email:a@x.io", 1),
    ("user_id:u1", "email:b@x.io", 2),
    ("email:a@x.io", "anonymous_id:d1", 3),
    ("email:b@x.io", "anonymous_id:d2", 4),
]


def resolve_with(manual: ManualConstraints):
    names = {name: i for i, name in enumerate(NODES)}
    types = np.array([n.split(":", 1)[0] for n in NODES], dtype=object)
    values = np.array([n.split(":", 1)[1] for n in NODES], dtype=object)
    u = ids(*(names[a] for a, _, _ in EDGES))
    v = ids(*(names[b] for _, b, _ in EDGES))
    t = ids(*(time for _, _, time in EDGES))
    return resolve_identities(types, values, u, v, t, manual=manual)


def test_without_decisions_everything_is_one_person() -> None:
    assert resolve_with(ManualConstraints()).labels.tolist() == [0, 0, 0, 0, 0]


def test_keep_apart_splits_the_named_email_and_its_device_from_the_rest() -> None:
    # unmerge email b (and the device only it used) from the profile of u1 / email a
    result = resolve_with(ManualConstraints(keep_apart=((ids(2, 4), ids(0, 1, 3)),)))
    assert result.labels.tolist() == [0, 0, 2, 0, 2]
    assert dropped(result) == [(1, "manual_unmerge", 0, 2)]


def test_keep_apart_holds_through_an_untagged_identifier() -> None:
    # b's side names only b; u1's side names only a. u1 joins a first (t=1) and then may not take b.
    result = resolve_with(ManualConstraints(keep_apart=((ids(2), ids(1)),)))
    assert result.labels[2] != result.labels[1]
    assert result.labels[0] == result.labels[1]


def test_keep_apart_drops_a_split_device_link_to_the_other_side() -> None:
    # the device d1 is split out from a: its link to a goes; it becomes an anonymous profile
    result = resolve_with(ManualConstraints(keep_apart=((ids(3), ids(0, 1, 2)),)))
    assert result.labels.tolist() == [0, 0, 0, 3, 0]
    assert (2, "manual_unmerge", 1, 3) in dropped(result)


def test_merge_group_joins_profiles_the_data_keeps_apart() -> None:
    nodes = ["user_id:u1", "user_id:u2", "email:a@x.io", "anonymous_id:d9"]
    base = resolve(nodes, [("user_id:u1", "email:a@x.io")])
    assert base.labels.tolist() == [0, 1, 0, 3]
    types = np.array([n.split(":", 1)[0] for n in nodes], dtype=object)
    values = np.array([n.split(":", 1)[1] for n in nodes], dtype=object)
    merged = resolve_identities(
        types, values, ids(0), ids(2), ids(0), manual=ManualConstraints(merge_groups=(ids(1, 2, 3),))
    )
    # two user ids in one profile: a person decided it, so the limit does not apply
    assert merged.labels.tolist() == [0, 0, 0, 0]


def test_keep_apart_rejects_an_identifier_on_both_sides() -> None:
    with pytest.raises(ValueError, match="both sides"):
        resolve_with(ManualConstraints(keep_apart=((ids(1, 2), ids(2)),)))

"""The shared-value guard, alias contraction and the replay order, on hand-built graphs."""

from __future__ import annotations

import numpy as np

from audience_dagster.identity.graph import resolve_identities
from audience_dagster.identity.hubs import people_per_value, shared_values
from audience_dagster.identity.rules import DEFAULT_RULES, IdentityRules
from tests.identity.test_graph import dropped, resolve


def test_people_bound_is_what_the_limits_prove() -> None:
    # node 0 linked to 2 user ids (limit 1) and 7 emails (limit 3): at least 3 people
    types = np.array(["phone", "user_id", "user_id", *["email"] * 7], dtype=object)
    node = np.zeros(9, dtype=np.int64)
    neighbour = np.arange(1, 10, dtype=np.int64)
    people = people_per_value(types.astype(str), node, neighbour, 10, DEFAULT_RULES)
    assert people[0] == 3 and people[1:].tolist() == [0] * 9


def test_a_value_shared_by_many_accounts_joins_nobody_and_is_listed() -> None:
    nodes = ["phone:+14155552671", *[f"shopify_customer_id:c{i}" for i in range(4)], "email:own@x.io"]
    edges = [("phone:+14155552671", f"shopify_customer_id:c{i}", i) for i in range(4)]
    edges.append(("shopify_customer_id:c0", "email:own@x.io", 9))
    result = resolve(nodes, edges)
    assert result.labels.tolist() == [-1, 1, 2, 3, 4, 1]
    assert result.shared_values.tolist() == [0] and result.value_people[0] == 4
    assert [r for _, r, _, _ in dropped(result)] == ["shared_value"] * 4


def test_two_accounts_on_one_value_are_kept_apart_by_the_limits_not_the_guard() -> None:
    nodes = ["email:family@x.io", "user_id:ann", "user_id:bob"]
    result = resolve(nodes, [("user_id:ann", "email:family@x.io", 1), ("user_id:bob", "email:family@x.io", 2)])
    assert result.labels.tolist() == [0, 0, 2]  # the first account keeps the email
    assert dropped(result) == [(1, "limit:user_id", 2, 0)]
    stricter = resolve(nodes, [("user_id:ann", "email:family@x.io"), ("user_id:bob", "email:family@x.io")],
                       IdentityRules(shared_value_people=1))  # fmt: skip
    assert stricter.labels.tolist() == [-1, 1, 2]


def test_user_id_alias_chain_of_2000_hops_and_loops_are_one_identity() -> None:
    n = 2_001
    types = np.array(["user_id"] * n + ["email"], dtype=object)
    values = np.array([f"u{i}" for i in range(n)] + ["a@x.io"], dtype=object)
    u = np.r_[np.arange(n - 1), 0, n - 1].astype(np.int64)  # chain, a loop back, and an email
    v = np.r_[np.arange(1, n), n - 1, n].astype(np.int64)
    equivalent = np.r_[np.ones(n, dtype=bool), False]
    result = resolve_identities(types, values, u, v, np.zeros(len(u), dtype=np.int64), equivalent=equivalent)
    assert np.unique(result.labels).tolist() == [0]
    assert len(result.dropped_edges) == 0
    without = resolve_identities(types, values, u, v, np.zeros(len(u), dtype=np.int64))  # the user-id limit
    assert len(np.unique(without.labels)) > 1


def test_a_reused_customer_id_cannot_pull_another_accounts_email() -> None:
    # store CSVs gave customer id c to two people; their accounts (user id + email) come later
    nodes = ["shopify_customer_id:c", "email:a@x.io", "email:b@x.io", "user_id:ua", "user_id:ub",
             "shopify_order_id:o2"]  # fmt: skip
    edges = [("shopify_customer_id:c", "email:a@x.io", 1), ("shopify_customer_id:c", "email:b@x.io", 2),
             ("shopify_order_id:o2", "shopify_customer_id:c", 2), ("shopify_order_id:o2", "email:b@x.io", 2),
             ("user_id:ua", "email:a@x.io", 5), ("user_id:ub", "email:b@x.io", 6)]  # fmt: skip
    result = resolve(nodes, edges)
    labels = result.labels.tolist()
    assert labels[1] == labels[3] == labels[0] and labels[2] == labels[4] == labels[5] != labels[0]


def test_shared_values_ignore_blocked_links() -> None:
    types = np.array(["phone", "user_id", "user_id", "user_id"], dtype=object).astype(str)
    strong = np.ones(4, dtype=bool)
    u, v = np.zeros(3, dtype=np.int64), np.arange(1, 4, dtype=np.int64)
    shared, people, _ = shared_values(types, strong, u, v, np.array([True, True, False]), DEFAULT_RULES)
    assert people[0] == 2 and not shared[0]

from __future__ import annotations

import pandas as pd
import pytest

from audience_dagster.identity.evaluate import pairwise_precision_recall


def test_hand_computed_example() -> None:
    # predicted {a,b,c}{d}: 3 pairs (ab, ac, bc); truth {a,b}{c,d}: 2 pairs (ab, cd); 1 in common.
    predicted = pd.Series({"a": 1, "b": 1, "c": 1, "d": 2})
    truth = pd.Series({"a": "p", "b": "p", "c": "q", "d": "q"})
    assert pairwise_precision_recall(predicted, truth) == pytest.approx((1 / 3, 1 / 2), abs=0, rel=1e-15)


def test_only_common_identifiers_count() -> None:
    predicted = pd.Series({"a": 1, "b": 1, "c": 1, "x": 1})
    truth = pd.Series({"a": 7, "b": 7, "c": 8, "y": 8})
    # common a,b,c: predicted pairs ab ac bc (3); truth pairs ab (1); common ab.
    assert pairwise_precision_recall(predicted, truth) == (1 / 3, 1.0)


def test_zero_denominators_give_one() -> None:
    singletons = pd.Series({"a": 1, "b": 2})
    assert pairwise_precision_recall(singletons, singletons) == (1.0, 1.0)
    assert pairwise_precision_recall(pd.Series(dtype=int), pd.Series(dtype=int)) == (1.0, 1.0)


def test_missing_predicted_cluster_is_a_singleton() -> None:
    predicted = pd.Series({"a": None, "b": None, "c": 3.0})
    truth = pd.Series({"a": 1, "b": 1, "c": 2})
    assert pairwise_precision_recall(predicted, truth) == (1.0, 0.0)


def test_duplicate_identifiers_are_rejected() -> None:
    with pytest.raises(ValueError, match="predicted has duplicate identifiers"):
        pairwise_precision_recall(pd.Series([1, 2], index=["a", "a"]), pd.Series({"a": 1}))


def test_identity_map_against_truth_counts_unlinked_identifiers_apart() -> None:
    import pandas as pd

    from audience_dagster.identity.evaluate import evaluate_identity_map

    truth = pd.DataFrame(
        [
            ("email", "a@x.com", "P1"),
            ("user_id", "u1", "P1"),
            ("anonymous_id", "z", "P1"),
            ("email", "b@x.com", "P2"),
            ("anonymous_id", "shared", "P1"),
            ("anonymous_id", "shared", "P2"),
        ],
        columns=["identifier_type", "identifier_value", "person_id"],
    )
    identity_map = pd.DataFrame(
        [
            ("email", "a@x.com", 1, False),
            ("user_id", "u1", 1, False),
            ("email", "b@x.com", 7, False),
            ("user_id", "null", None, True),
        ],
        columns=["identifier_type", "identifier_value", "profile_id", "blocked"],
    )
    # the data links a to u1 only: z (never linked) can only be a profile of its own
    edges = (pd.Index(["email:a@x.com"]), pd.Index(["user_id:u1"]))
    figures = evaluate_identity_map(identity_map, truth, edges)
    # true pairs a-u1, a-z, u1-z: the map finds 1 of 3 and no false pair
    assert (figures["precision"], figures["recall"]) == (1.0, 1 / 3)
    # the links prove a-u1 only: the best any resolver can do is 1 of 3, and the map does it
    assert (figures["recall_ceiling"], figures["recall_provable"]) == (1 / 3, 1.0)
    assert (figures["truth_identifiers"], figures["linked_identifiers"]) == (4.0, 3.0)
    assert list(figures)[-2:] == ["precision", "recall"]

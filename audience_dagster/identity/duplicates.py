"""Fuzzy duplicate detection: probabilistic record linkage (Fellegi–Sunter) with ``recordlinkage``.

Pure (pandas in, pandas out; no database). Three steps, as in every record-linkage toolkit:

1. **Blocking** (:func:`candidate_pairs`): only records that agree exactly on one of the
   spec's blocking keys are compared (the same phone; the same email local part; the same last
   name, first name and city …). A block larger than ``max_block`` records is skipped (a key
   that common says nothing), so the number of pairs grows with the records, never with their
   square: tractable at millions of profiles.
2. **Comparisons** (:func:`compare_pairs`): one agreement feature (0/1) per field, computed by
   ``recordlinkage.Compare`` (Jaro–Winkler / Levenshtein similarity above a threshold, or an
   exact match); a missing value disagrees.
3. **Model** (:func:`match_probabilities`): the unsupervised Fellegi–Sunter model fitted by
   expectation–conditional maximisation (``recordlinkage.ECMClassifier``) on the candidates
   together with random pairs (as Splink estimates u-probabilities by random sampling), so chance
   agreement is known even when blocking leaves few candidates; no labels needed; the posterior
   match probability of every candidate pair.

The same code scores the FEBRL3 benchmark (``audience eval duplicates --dataset febrl3``) and
the warehouse's profiles (:data:`PROFILE_SPEC`). Suggestions only: nothing is merged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import recordlinkage


@dataclass(frozen=True)
class Comparison:
    """One field compared: ``method`` ``exact``, ``jarowinkler`` or ``levenshtein`` (similarity
    at least ``threshold`` agrees)."""

    field: str
    method: str = "exact"
    threshold: float = 0.85

    def __post_init__(self) -> None:
        if self.method not in ("exact", "jarowinkler", "levenshtein"):
            raise ValueError(f"comparison {self.field}: unknown method {self.method!r}")


@dataclass(frozen=True)
class LinkageSpec:
    """Blocking keys (each a tuple of columns) and the comparisons of a linkage task.

    ``require_any``: a pair is suggested only if it agrees on at least one of these fields
    (for profiles: a phone or an email local part; namesakes in one city are common)."""

    blocking: tuple[tuple[str, ...], ...]
    comparisons: tuple[Comparison, ...]
    max_block: int = 50
    require_any: tuple[str, ...] = ()


PROFILE_SPEC = LinkageSpec(
    blocking=(("phone",), ("email_local",), ("last_name", "first_name", "city"), ("last_name", "phone_tail")),
    comparisons=(
        Comparison("first_name", "jarowinkler", 0.88),
        Comparison("last_name", "jarowinkler", 0.88),
        Comparison("phone"),
        Comparison("email_local"),
        Comparison("city", "jarowinkler", 0.9),
        Comparison("state"),
    ),
    require_any=("phone", "email_local"),
)

FEBRL_SPEC = LinkageSpec(
    blocking=(("given_name",), ("surname",), ("date_of_birth",), ("soc_sec_id",), ("postcode",)),
    comparisons=(
        Comparison("given_name", "jarowinkler", 0.85),
        Comparison("surname", "jarowinkler", 0.85),
        Comparison("date_of_birth"),
        Comparison("soc_sec_id"),
        Comparison("suburb"),
        Comparison("state"),
        Comparison("address_1", "levenshtein", 0.85),
        Comparison("postcode"),
        Comparison("street_number"),
    ),
    max_block=1_000,
)


def candidate_pairs(frame: pd.DataFrame, spec: LinkageSpec) -> pd.MultiIndex:
    """Pairs (first index < second index, by position order) that share a blocking key."""
    positions = pd.RangeIndex(len(frame))
    found = []
    for key in spec.blocking:
        keyed = frame.loc[:, list(key)].set_axis(positions).dropna()
        keyed = keyed[(keyed.astype(str) != "").all(axis=1)]
        if keyed.empty:
            continue
        size = keyed.groupby(list(key), sort=False)[key[0]].transform("size")
        keyed = keyed[(size > 1) & (size <= spec.max_block)].reset_index(names="pos")
        joined = keyed.merge(keyed, on=list(key), suffixes=("_a", "_b"))
        joined = joined[joined["pos_a"] < joined["pos_b"]]
        found.append(joined["pos_a"].to_numpy(np.int64) * len(frame) + joined["pos_b"].to_numpy(np.int64))
    if not found:
        return pd.MultiIndex.from_arrays([frame.index[:0], frame.index[:0]])
    codes = np.unique(np.concatenate(found))
    return pd.MultiIndex.from_arrays([frame.index[codes // len(frame)], frame.index[codes % len(frame)]])


def compare_pairs(frame: pd.DataFrame, pairs: pd.MultiIndex, spec: LinkageSpec) -> pd.DataFrame:
    """0/1 agreement per comparison (columns named by field) for every candidate pair."""
    compare = recordlinkage.Compare()
    for c in spec.comparisons:
        if c.method == "exact":
            compare.exact(c.field, c.field, missing_value=0, label=c.field)
        else:
            compare.string(c.field, c.field, method=c.method, threshold=c.threshold, missing_value=0, label=c.field)
    if len(pairs) == 0:
        return pd.DataFrame(columns=[c.field for c in spec.comparisons], index=pairs)
    return compare.compute(pairs, frame.astype(object).where(frame.notna(), None)).astype(np.int8)


def random_pairs(frame: pd.DataFrame, n: int, seed: int = 0) -> pd.MultiIndex:
    """``n`` random pairs of distinct records (almost all non-matches: what chance agreement looks like)."""
    rng = np.random.default_rng(seed)
    size = len(frame)
    if size < 2 or n <= 0:
        return pd.MultiIndex.from_arrays([frame.index[:0], frame.index[:0]])
    a = rng.integers(0, size, n)
    b = (a + rng.integers(1, size, n)) % size
    return pd.MultiIndex.from_arrays([frame.index[np.minimum(a, b)], frame.index[np.maximum(a, b)]])


def match_probabilities(features: pd.DataFrame, background: pd.DataFrame | None = None) -> pd.Series:
    """Posterior match probability of each pair under the Fellegi–Sunter model fitted by ECM.

    ``background``: features of random pairs, fitted together with the candidates so the model
    sees what chance agreement looks like (the u-probabilities) even when blocking leaves few or
    uniform candidates. With no comparison that varies there is nothing to
    learn: every probability is 0 (no suggestion); a comparison that never varies is left out."""
    training = features if background is None else pd.concat([features, background], ignore_index=True)
    informative = [c for c in training.columns if training[c].nunique() > 1]  # a constant says nothing
    if len(features) == 0 or not informative:
        return pd.Series(0.0, index=features.index)
    model = recordlinkage.ECMClassifier(binarize=None)
    # an agreement chance never produces has u = 0: log(0) = -inf is the right limit, not an error
    with np.errstate(divide="ignore", invalid="ignore"):
        model.fit(training[informative])
        probability = np.asarray(model.prob(features[informative]), dtype=np.float64)
    return pd.Series(np.nan_to_num(probability, nan=0.0), index=features.index)


def find_duplicates(frame: pd.DataFrame, spec: LinkageSpec, threshold: float) -> pd.DataFrame:
    """Pairs with match probability ≥ ``threshold``: ``left``, ``right`` (index labels of
    ``frame``), ``probability`` and one 0/1 column per comparison."""
    pairs = candidate_pairs(frame, spec)
    features = compare_pairs(frame, pairs, spec)
    background = compare_pairs(frame, random_pairs(frame, min(max(2_000, 2 * len(pairs)), 200_000)), spec)
    probability = match_probabilities(features, background)
    chosen = probability >= threshold
    if spec.require_any:
        chosen &= features[list(spec.require_any)].any(axis=1)
    out = features[chosen].copy()
    out.insert(0, "probability", probability[chosen])
    out.index.names = ["left", "right"]
    return out.reset_index()


def comparisons_json(matches: pd.DataFrame, spec: LinkageSpec) -> pd.Series:
    """Each match's comparisons as JSON: ``{"agree": [...], "disagree": [...]}`` by field."""
    fields = [c.field for c in spec.comparisons]
    agree = matches[fields].to_numpy(dtype=bool)
    return pd.Series(
        [
            json.dumps(
                {
                    "agree": [f for f, a in zip(fields, row, strict=True) if a],
                    "disagree": [f for f, a in zip(fields, row, strict=True) if not a],
                }
            )
            for row in agree
        ],
        index=matches.index,
    )


def profile_linkage_frame(profiles: pd.DataFrame) -> pd.DataFrame:
    """Profiles (``id, first_name, last_name, phone, email, city, state``) as the columns
    :data:`PROFILE_SPEC` compares: names, city and state lower-cased and trimmed, the email's local
    part without dots or ``+tag``, the phone's last seven digits for blocking."""
    frame = pd.DataFrame(index=profiles["id"].to_numpy())
    for column in ("first_name", "last_name", "city", "state"):
        frame[column] = profiles[column].astype("string").str.strip().str.lower().replace("", pd.NA).to_numpy()
    frame["phone"] = profiles["phone"].astype("string").replace("", pd.NA).to_numpy()
    local = profiles["email"].astype("string").str.partition("@")[0].str.partition("+")[0]
    frame["email_local"] = local.str.replace(".", "", regex=False).replace("", pd.NA).to_numpy()
    frame["phone_tail"] = frame["phone"].str[-7:]
    return frame

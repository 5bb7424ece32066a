"""Stable profile ids: a person keeps the same profile uuid across rebuilds of the identity graph.

Every rebuild partitions identifiers into components afresh (:func:`resolve_identities`). This
module maps the new components onto the profile ids issued before, from the previous identity
map (identifier → profile id) and the registry of every id ever issued, all in pandas:

1. **Claims.** Each previous profile id claims the new component holding most of its identifiers
   (ties: the smaller component label).
2. **Survivor.** A component claimed by several ids keeps a *known* profile (one that held a
   person identifier: user id, email, …) over an anonymous one — when a visitor identifies, the
   person's profile absorbs the visitor's, as in the spec's identifyUser — then the one whose
   identifiers were seen first (the spec's merge strategy: the earliest ``first_seen`` is the
   primary), then the one issued first, then the smaller uuid. The others are *merged* into it: their registry rows
   point at the survivor (``merged_into`` / ``current_profile_id``), so a retired id still
   resolves, and one merge record is written per retired id.
3. **New ids.** A component nobody claims gets a fresh uuid4. If some of its identifiers belonged
   to a profile that went elsewhere, that is a *split*, recorded from the profile they left.
4. **Retired.** An active id whose identifiers all disappeared (their data was deleted) becomes
   ``retired`` with no current profile. ``erased`` ids (privacy erasure) never come back.

Chains stay one hop deep: when a survivor is itself merged later, every id that pointed at it is
re-pointed to the new survivor (pointer jumping over the whole registry).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from audience_dagster.identity.rules import PERSON_TYPES

REGISTRY_COLUMNS = ("profile_id", "created_at", "status", "merged_into", "retired_at", "current_profile_id")
MERGE_COLUMNS = ("kind", "retired_profile_id", "survivor_profile_id", "evidence")
_HEX = np.frombuffer(b"0123456789abcdef", dtype="S1")


@dataclass(frozen=True)
class Assignment:
    """Result of :func:`assign_profile_ids`.

    ``profile_id``: one uuid string per row of ``current`` (aligned with it). ``registry``: the
    whole new registry (:data:`REGISTRY_COLUMNS`). ``merges``: rows for the merge log
    (``kind`` 'rule' or 'split', retired and survivor ids; for a split, ``retired_profile_id`` is
    the profile the identifiers left, which lives on, and ``survivor_profile_id`` the new one).
    ``counts``: new / kept / merged / split / retired profile ids in this rebuild.
    """

    profile_id: pd.Series
    registry: pd.DataFrame
    merges: pd.DataFrame
    counts: dict[str, int]


def new_uuids(n: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """``n`` random (version 4) uuid strings, vectorised."""
    rng = rng or np.random.default_rng()
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    digits = np.empty((n, 32), dtype="S1")
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 0x0F]
    out = np.full((n, 36), b"-", dtype="S1")
    for start, stop, at in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        out[:, at : at + stop - start] = digits[:, start:stop]
    return out.view("S36").ravel().astype(str).astype(object)


def empty_registry() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in REGISTRY_COLUMNS})


def assign_profile_ids(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    registry: pd.DataFrame,
    now: pd.Timestamp,
    rng: np.random.Generator | None = None,
    person_types: frozenset[str] = frozenset(PERSON_TYPES),
) -> Assignment:
    """Give every component of ``current`` a profile id, reusing previous ids (see module doc).

    ``current``: ``identifier_type, identifier_value, label`` (component, int) for the identifiers
    that get a profile. ``previous``: ``identifier_type, identifier_value, profile_id,
    first_seen_at`` from the last identity map. ``registry``: :data:`REGISTRY_COLUMNS`.
    ``person_types``: identifier types that make a profile *known*.
    """
    keys = ["identifier_type", "identifier_value"]
    registry = registry if len(registry) else empty_registry()
    erased = set(registry.loc[registry["status"] == "erased", "profile_id"])
    prev = previous[previous["profile_id"].notna() & ~previous["profile_id"].isin(erased)]
    joined = current[[*keys, "label"]].merge(prev[[*keys, "profile_id", "first_seen_at"]], on=keys, how="left")

    pairs = (
        joined.dropna(subset=["profile_id"]).groupby(["profile_id", "label"], sort=False).size().rename("overlap")
    ).reset_index()
    claims = pairs.sort_values(["profile_id", "overlap", "label"], ascending=[True, False, True]).drop_duplicates(
        "profile_id"
    )
    first_seen = prev.groupby("profile_id")["first_seen_at"].min().rename("first_seen")
    anonymous = (~prev["identifier_type"].isin(person_types)).groupby(prev["profile_id"]).all().rename("anonymous")
    created = registry.set_index("profile_id")["created_at"]
    claims = claims.join(first_seen, on="profile_id").join(anonymous, on="profile_id")
    claims = claims.assign(created=lambda f: f["profile_id"].map(created))
    claims = claims.sort_values(["label", "anonymous", "first_seen", "created", "profile_id"], na_position="last")
    survivors = claims.drop_duplicates("label")
    losers = claims[~claims.index.isin(survivors.index)]

    labels = pd.Index(pd.unique(current["label"]))
    label_id = pd.Series(survivors["profile_id"].to_numpy(), index=survivors["label"].to_numpy())
    unclaimed = labels[~labels.isin(label_id.index)]
    fresh = pd.Series(new_uuids(len(unclaimed), rng), index=unclaimed)
    label_id = pd.concat([label_id, fresh])

    # a fresh component that holds identifiers of an older profile was split off from it
    split_from = (
        pairs[pairs["label"].isin(unclaimed)]
        .sort_values(["label", "overlap", "profile_id"], ascending=[True, False, True])
        .drop_duplicates("label")
    )
    merged_into = pd.Series(label_id.reindex(losers["label"]).to_numpy(), index=losers["profile_id"].to_numpy())
    merges = pd.concat(
        [
            pd.DataFrame(
                {"kind": "rule", "retired_profile_id": merged_into.index, "survivor_profile_id": merged_into.values}
            ),
            pd.DataFrame(
                {
                    "kind": "split",
                    "retired_profile_id": split_from["profile_id"].to_numpy(),
                    "survivor_profile_id": fresh.reindex(split_from["label"]).to_numpy(),
                }
            ),
        ],
        ignore_index=True,
    )

    new_registry = _updated_registry(registry, fresh, merged_into, set(claims["profile_id"]), now)
    counts = {
        "profiles": len(label_id),
        "new_profiles": len(fresh) - len(split_from),
        "kept_profiles": len(survivors),
        "merged_profiles": len(merged_into),
        "split_profiles": len(split_from),
        "retired_profiles": int((new_registry["status"] == "retired").sum() - (registry["status"] == "retired").sum()),
    }
    profile_id = pd.Series(label_id.reindex(current["label"]).to_numpy(), index=current.index, name="profile_id")
    return Assignment(profile_id=profile_id, registry=new_registry, merges=merges, counts=counts)


def _updated_registry(
    registry: pd.DataFrame, fresh: pd.Series, merged_into: pd.Series, claimed: set, now: pd.Timestamp
) -> pd.DataFrame:
    reg = registry.loc[:, list(REGISTRY_COLUMNS)].copy()
    for column in ("created_at", "retired_at"):  # one unit, so `now` (microseconds) fits
        reg[column] = pd.to_datetime(reg[column], utc=True).astype("datetime64[us, UTC]")
    active = reg["status"] == "active"
    merging = reg["profile_id"].isin(merged_into.index)
    vanished = active & ~reg["profile_id"].isin(claimed) & ~merging
    reg.loc[merging, "status"] = "merged"
    reg.loc[merging, "merged_into"] = reg.loc[merging, "profile_id"].map(merged_into)
    reg.loc[merging | vanished, "retired_at"] = now
    reg.loc[vanished, "status"] = "retired"
    reg.loc[vanished, "current_profile_id"] = None
    added = pd.DataFrame(
        {
            "profile_id": fresh.to_numpy(),
            "created_at": now,
            "status": "active",
            "merged_into": None,
            "retired_at": None,
            "current_profile_id": fresh.to_numpy(),
        }
    )
    if len(reg):
        # the all-empty columns typed as the register's, so that concat keeps its dtypes (pandas
        # would otherwise warn that a future version lets them decide the result's)
        empty = ["merged_into", "retired_at"]
        reg = pd.concat([reg, added.astype({c: reg[c].dtype for c in empty})], ignore_index=True)
    else:
        reg = added
    reg["current_profile_id"] = _current_ids(reg)
    return reg.reset_index(drop=True)


def _current_ids(reg: pd.DataFrame) -> pd.Series:
    """Follow ``merged_into`` to the end for every id (pointer jumping); None for retired/erased."""
    idx = pd.Index(reg["profile_id"])
    status = reg["status"].to_numpy()
    target = np.arange(len(reg))
    merged = status == "merged"
    pointer = idx.get_indexer(reg["merged_into"].where(merged))
    target[merged & (pointer >= 0)] = pointer[merged & (pointer >= 0)]
    for _ in range(64):  # 2**64 hops: only a cycle could need more
        nxt = target[target]
        if np.array_equal(nxt, target):
            break
        target = nxt
    else:
        raise ValueError("profile registry: merged_into forms a cycle")
    ids = reg["profile_id"].to_numpy(dtype=object)[target]
    live = status[target] == "active"
    return pd.Series(np.where(live, ids, None), index=reg.index, dtype=object)

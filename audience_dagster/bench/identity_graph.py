"""Identity-resolution benchmark: a synthetic identity graph and the time to resolve it.

``python -m audience_dagster.bench.identity_graph [people] [seed]`` prints figures (nodes, edges,
seconds, peak memory, pairwise precision/recall against the generator's truth); it asserts
nothing. The default of 2,100,000 people gives about 5 million edges.
"""

from __future__ import annotations

import resource
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audience_dagster.identity.evaluate import pairwise_precision_recall
from audience_dagster.identity.graph import resolve_identities

JUNK_NODES = (("user_id", "null"), ("anonymous_id", "anonymous"), ("email", "test@example.com"))


@dataclass(frozen=True)
class SyntheticGraph:
    node_types: np.ndarray  # object array of type names
    node_values: np.ndarray  # object array of values
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_time: np.ndarray  # int64 seconds
    truth: np.ndarray  # person index per node, -1 for junk nodes


def synthetic_graph(people: int, seed: int) -> SyntheticGraph:
    """A random identity graph with known truth, built without per-person Python.

    Each person has a user id (60%) or an email (the rest; 25% of user-id persons have both,
    linked by an identify edge), 20% a phone, and 1–3 anonymous ids, each linked to the person's
    main identifier or (30%) aliased to the previous anonymous id. About 2% of anonymous ids are
    also seen with another person (shared devices), and about 1% of people are linked to junk
    identifiers (a ``'null'`` user id, an ``'anonymous'`` anonymous id, ``test@example.com``).
    """
    rng = np.random.default_rng(seed)
    person = np.arange(people, dtype=np.int64)
    has_user = rng.random(people) < 0.6
    has_email = ~has_user | (rng.random(people) < 0.25)
    has_phone = rng.random(people) < 0.2
    n_anon = rng.integers(1, 4, people)

    user_p, email_p, phone_p = person[has_user], person[has_email], person[has_phone]
    anon_p = np.repeat(person, n_anon)
    anon_k = np.arange(len(anon_p)) - np.repeat(np.cumsum(n_anon) - n_anon, n_anon)  # 0..n_anon-1

    blocks = [
        ("user_id", "u", user_p, ""),
        ("email", "p", email_p, "@shop.io"),
        ("phone", "+1415", phone_p, ""),
        ("anonymous_id", "a", anon_p, ""),
    ]
    types, values, truth, starts = _identifier_nodes(blocks, anon_k)
    junk_start = starts["junk"]

    # node id of each person's identifiers (-1 where absent)
    user_of = np.full(people, -1, dtype=np.int64)
    user_of[user_p] = starts["user_id"] + np.arange(len(user_p))
    email_of = np.full(people, -1, dtype=np.int64)
    email_of[email_p] = starts["email"] + np.arange(len(email_p))
    main_of = np.where(user_of >= 0, user_of, email_of)
    anon_ids = starts["anonymous_id"] + np.arange(len(anon_p))

    both = has_user & has_email
    alias = (anon_k > 0) & (rng.random(len(anon_p)) < 0.3)
    shared = rng.random(len(anon_p)) < 0.02
    other = (anon_p[shared] + rng.integers(1, people, int(shared.sum()))) % people
    junk_people = person[rng.random(people) < 0.01]
    junk_anon = anon_ids[rng.random(len(anon_ids)) < 0.005]
    us = [
        user_of[both],
        starts["phone"] + np.arange(len(phone_p)),
        anon_ids,
        anon_ids[shared],
        main_of[junk_people],
        junk_anon,
    ]
    vs = [
        email_of[both],
        main_of[phone_p],
        np.where(alias, anon_ids - 1, main_of[anon_p]),
        main_of[other],
        np.full(len(junk_people), junk_start, dtype=np.int64),
        np.full(len(junk_anon), junk_start + 1, dtype=np.int64),
    ]
    u, v = np.concatenate(us), np.concatenate(vs)

    return _shuffled(rng, np.concatenate(types), np.concatenate(values), np.concatenate(truth), u, v)


def _identifier_nodes(
    blocks: list[tuple[str, str, np.ndarray, str]], anon_k: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], dict[str, int]]:
    """Node types, values and owners per block (then the junk nodes), and where each block starts."""
    types, values, truth, starts = [], [], [], {}
    offset = 0
    for name, prefix, owners, suffix in blocks:
        starts[name] = offset
        types.append(np.full(len(owners), name, dtype=object))
        text = pd.Series(owners).astype(str)
        if name == "phone":
            text = text.str.zfill(7)
        elif name == "anonymous_id":
            text = text + "-" + pd.Series(anon_k).astype(str)
        values.append((prefix + text + suffix).to_numpy(dtype=object))
        truth.append(owners)
        offset += len(owners)
    starts["junk"] = offset
    types.append(np.array([t for t, _ in JUNK_NODES], dtype=object))
    values.append(np.array([v for _, v in JUNK_NODES], dtype=object))
    truth.append(np.full(len(JUNK_NODES), -1, dtype=np.int64))
    return types, values, truth, starts


def _shuffled(
    rng: np.random.Generator, types: np.ndarray, values: np.ndarray, truth: np.ndarray, u: np.ndarray, v: np.ndarray
) -> SyntheticGraph:
    """The graph with node ids and edge order shuffled, so nothing depends on the generator's layout."""
    n_nodes = len(types)
    relabel = rng.permutation(n_nodes)
    edge_order = rng.permutation(len(u))
    node_types = np.empty(n_nodes, dtype=object)
    node_values = np.empty(n_nodes, dtype=object)
    node_truth = np.empty(n_nodes, dtype=np.int64)
    node_types[relabel] = types
    node_values[relabel] = values
    node_truth[relabel] = truth
    return SyntheticGraph(
        node_types=node_types,
        node_values=node_values,
        edge_u=relabel[u][edge_order],
        edge_v=relabel[v][edge_order],
        edge_time=rng.integers(1_600_000_000, 1_700_000_000, len(u)),
        truth=node_truth,
    )


def time_resolution(people: int = 2_100_000, seed: int = 0) -> dict[str, float]:
    """Generate a graph, resolve it once, and return the figures."""
    t0 = time.perf_counter()
    graph = synthetic_graph(people, seed)
    generated = time.perf_counter() - t0
    rss_before = _current_rss_mb()
    _reset_peak_rss()
    t0 = time.perf_counter()
    result = resolve_identities(graph.node_types, graph.node_values, graph.edge_u, graph.edge_v, graph.edge_time)
    seconds = time.perf_counter() - t0
    rss_after = _peak_rss_mb()
    keep = (graph.truth >= 0) & (result.labels >= 0)
    precision, recall = pairwise_precision_recall(pd.Series(result.labels[keep]), pd.Series(graph.truth[keep]))
    figures = {
        "people": float(people),
        "nodes": float(len(graph.node_types)),
        "edges": float(len(graph.edge_u)),
        "generate_s": generated,
        "resolve_s": seconds,
        "rss_before_resolve_mb": rss_before,
        "peak_rss_during_resolve_mb": rss_after,
        "profiles": float(len(np.unique(result.labels[result.labels >= 0]))),
        "shared_nodes": float(len(result.shared_nodes)),
        "precision": precision,
        "recall": recall,
    }
    for reason, count in result.dropped_edges["reason"].value_counts().sort_index().items():
        figures[f"dropped[{reason}]"] = float(count)
    return figures


def _status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        return None
    return None


def _reset_peak_rss() -> None:
    """Reset the kernel's peak-RSS mark (Linux), so the peak seen afterwards is the resolver's."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


def _current_rss_mb() -> float:
    current = _status_mb("VmRSS")
    return current if current is not None else _peak_rss_mb()


def _peak_rss_mb() -> float:
    peak = _status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    people = int(args[0]) if args else 2_100_000
    seed = int(args[1]) if len(args) > 1 else 0
    figures = time_resolution(people, seed)
    for name, value in figures.items():
        shown = f"{value:,.3f}" if value != int(value) else f"{int(value):,}"
        print(f"{name:>28}: {shown}", file=sys.stderr)
    # the machine-readable closing line every bench/eval command ends with
    print(" ".join(f"{name.replace('[', '_').replace(']', '')}={value:g}" for name, value in figures.items()))


if __name__ == "__main__":
    main()

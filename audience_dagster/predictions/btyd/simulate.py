"""Simulate the BG/NBD process (for tests and benchmarks)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def simulate_bgnbd(r: float, alpha: float, a: float, b: float, T: Any, rng: np.random.Generator) -> pd.DataFrame:
    """Simulate the BG/NBD process for customers observed for ``T`` after their first purchase:
    ``frequency``, ``recency``, ``T`` and ``next_purchase`` (time of the first purchase after T,
    inf if the customer has dropped out). Vectorised over customers, one loop step per purchase."""
    big_t = np.asarray(T, dtype=float)
    n = big_t.size
    lam = np.maximum(rng.gamma(r, 1.0 / alpha, n), 1e-300)
    drop = rng.beta(a, b, n)
    clock, x, t_x = np.zeros(n), np.zeros(n), np.zeros(n)
    next_purchase = np.full(n, np.inf)
    active = np.arange(n)
    while active.size:
        clock[active] += rng.exponential(1.0 / lam[active])
        inside = clock[active] <= big_t[active]
        bought, beyond = active[inside], active[~inside]
        x[bought] += 1
        t_x[bought] = clock[bought]
        next_purchase[beyond] = clock[beyond]
        active = bought[rng.random(bought.size) >= drop[bought]]
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": big_t, "next_purchase": next_purchase})

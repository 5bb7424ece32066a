"""Fit BG/NBD and Gamma-Gamma on a million synthetic customers in whole days and print the
figures as one ``key=value`` line: ``python -m audience_dagster.bench.btyd_fit [customers]``."""

from __future__ import annotations

import sys
import time

import numpy as np

from audience_dagster.predictions.btyd import BetaGeoFitter, GammaGammaFitter, simulate_bgnbd


def run_btyd_fit_bench(customers: int = 1_000_000, seed: int = 7) -> str:
    """Fit BG/NBD and Gamma-Gamma on synthetic customers in whole days; the figures as one line."""
    rng = np.random.default_rng(seed)
    truth = {"r": 0.25, "alpha": 30.0, "a": 0.8, "b": 2.5}
    big_t = rng.integers(30, 731, customers).astype(float)
    sim = simulate_bgnbd(*truth.values(), big_t, rng)
    recency = np.minimum(np.round(sim["recency"].to_numpy()), big_t)  # whole days, as from dates
    x = sim["frequency"].to_numpy()
    started = time.perf_counter()
    bg = BetaGeoFitter().fit(x, recency, big_t)
    bg_seconds = time.perf_counter() - started
    nu = rng.gamma(3.0, 1.0 / 15.0, customers)  # q = 3, v = 15
    spend = rng.gamma(6.0 * np.maximum(x, 1), 1.0 / (nu * np.maximum(x, 1)))  # mean of x Gamma(6, ν) draws
    started = time.perf_counter()
    gg = GammaGammaFitter().fit(x, spend)
    gg_seconds = time.perf_counter() - started
    fitted = " ".join(f"{k}={v:.4g}" for k, v in {**bg.params_, **gg.params_}.items())
    return (
        f"customers={customers} repeat_customers={int((x > 0).sum())} fit_bgnbd_seconds={bg_seconds:.2f} "
        f"fit_gg_seconds={gg_seconds:.2f} {fitted} "
        f"(true r=0.25 alpha=30 a=0.8 b=2.5 p=6 q=3 v=15)"
    )


if __name__ == "__main__":
    print(run_btyd_fit_bench(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000))

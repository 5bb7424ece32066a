"""BG/NBD (Fader, Hardie & Lee 2005): the likelihood, its vectorised objective over distinct
``(frequency, recency, T)`` rows, and :class:`BetaGeoFitter` with the conditional expectations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from audience_dagster.errors import ModelError, ModelNotIdentifiedError
from audience_dagster.predictions.btyd.fitting import _check_rft, _check_weights, _finite, _fit_log_params, _horizon

MIN_CUSTOMERS_BGNBD = 20
BGNBD_PARAMETERS = 4  # fewer distinct histories than parameters: not identified
_TIME_SCALE = 10.0  # the largest T the optimiser sees


def bgnbd_log_likelihood(
    r: float, alpha: float, a: float, b: float, frequency: Any, recency: Any, T: Any
) -> np.ndarray:
    """BG/NBD log-likelihood of each customer (FHL 2005, eq. 6), vectorised and overflow-free.

    ``LL = ln Γ(r+x) - ln Γ(r) + r ln α + ln B(a, b+x) - ln B(a, b)
    + ln[(α+T)^-(r+x) + 1{x>0} a/(b+x-1) (α+t_x)^-(r+x)]``, the last term by ``logaddexp``.
    """
    x, t_x, big_t = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + big_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.log(a) - np.log(b + x - 1.0) - (r + x) * np.log(alpha + t_x)
    return head + np.logaddexp(a3, np.where(x > 0, a4, -np.inf))


@dataclass(frozen=True)
class _Rows:
    """Distinct (x, t_x, T) rows with weights, split into x == 0 and x > 0, plus per-x weights."""

    t0: np.ndarray
    w0: np.ndarray
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    w: np.ndarray
    xs: np.ndarray
    wx: np.ndarray

    @classmethod
    def group(cls, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, w: np.ndarray) -> _Rows:
        frame = pd.DataFrame({"x": x, "t_x": t_x, "T": big_t, "w": w})
        rows = frame[w > 0].groupby(["x", "t_x", "T"], sort=False, as_index=False)["w"].sum()
        per_x = rows.groupby("x", as_index=False)["w"].sum()
        zero, rep = rows[rows["x"] == 0], rows[rows["x"] > 0]
        return cls(
            t0=zero["T"].to_numpy(),
            w0=zero["w"].to_numpy(),
            x=rep["x"].to_numpy(),
            t_x=rep["t_x"].to_numpy(),
            T=rep["T"].to_numpy(),
            w=rep["w"].to_numpy(),
            xs=per_x["x"].to_numpy(),
            wx=per_x["w"].to_numpy(),
        )


def _bgnbd_objective(theta: np.ndarray, rows: _Rows, total: float, penalizer: float) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood and its gradient in log-parameters (same LL as above)."""
    r, alpha, a, b = params = np.exp(theta)
    xs, wx = rows.xs, rows.wx
    ll = wx @ (gammaln(r + xs) - gammaln(r) + r * np.log(alpha) + betaln(a, b + xs) - betaln(a, b))
    d_r = wx @ (digamma(r + xs) - digamma(r) + np.log(alpha))
    d_alpha = wx.sum() * r / alpha
    d_a = wx @ (digamma(a + b) - digamma(a + b + xs))
    d_b = wx @ (digamma(b + xs) - digamma(b) + digamma(a + b) - digamma(a + b + xs))
    # customers without repeat purchases: alive for sure, ln[(α+T)^-r]
    log_t0 = np.log(alpha + rows.t0)
    ll -= r * (rows.w0 @ log_t0)
    d_r -= rows.w0 @ log_t0
    d_alpha -= r * (rows.w0 @ (1.0 / (alpha + rows.t0)))
    # repeat customers: logaddexp of "still alive" (a3) and "dropped out after t_x" (a4)
    rx = r + rows.x
    log_t, log_tx = np.log(alpha + rows.T), np.log(alpha + rows.t_x)
    a3 = -rx * log_t
    a4 = np.log(a) - np.log(b + rows.x - 1.0) - rx * log_tx
    h = np.logaddexp(a3, a4)
    pi = np.exp(a4 - h)  # posterior probability of "dropped out"
    w = rows.w
    ll += w @ h
    d_r -= w @ ((1 - pi) * log_t + pi * log_tx)
    d_alpha -= w @ (rx * ((1 - pi) / (alpha + rows.T) + pi / (alpha + rows.t_x)))
    d_a += (w @ pi) / a
    d_b -= w @ (pi / (b + rows.x - 1.0))
    grad = -np.array([d_r, d_alpha, d_a, d_b]) * params / total + 2 * penalizer * params**2
    return float(-ll / total + penalizer * (params**2).sum()), grad


class BetaGeoFitter:
    """BG/NBD model (Fader, Hardie & Lee 2005): purchases at Poisson rate λ ~ Gamma(r, α) while
    alive; after each repeat purchase the customer drops out with probability p ~ Beta(a, b)."""

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        self.penalizer_coef = penalizer_coef

    def fit(self, frequency: Any, recency: Any, T: Any, weights: Any = None) -> BetaGeoFitter:
        """Maximum-likelihood fit; ``frequency`` counts repeat purchase periods, ``recency`` and ``T``
        are the ages at the last purchase and at the end of observation, in any one time unit.
        ``weights`` counts customers per row (for pre-grouped data). Sets ``params_`` and
        ``log_likelihood_`` (total over customers, in the caller's time unit, without penalty)."""
        x, t_x, big_t = (v.ravel() for v in _check_rft(frequency, recency, T, what="BG/NBD fit"))
        w = _check_weights(weights, x.size)
        customers, repeaters = w.sum(), w[x > 0].sum()
        if customers < MIN_CUSTOMERS_BGNBD or repeaters == 0:
            raise ModelError(
                f"BG/NBD fit: {customers:g} customers, {repeaters:g} with a repeat purchase; the model needs at "
                f"least {MIN_CUSTOMERS_BGNBD} customers and some repeat purchases: use a longer history"
            )
        if big_t.max() <= 0:
            raise ModelError("BG/NBD fit: every T is 0 (nobody has been observed for any time); check observation_end")
        scale = big_t.max() / _TIME_SCALE
        rows = _Rows.group(x, t_x / scale, big_t / scale, w)
        distinct = rows.t0.size + rows.x.size
        if distinct < BGNBD_PARAMETERS:  # degenerate: no optimiser can separate the parameters
            raise ModelNotIdentifiedError(
                f"BG/NBD fit: the {customers:g} customers have {distinct} distinct (frequency, recency, T) "
                f"histories; its {BGNBD_PARAMETERS} parameters need at least {BGNBD_PARAMETERS}: "
                "use a longer history or more customers"
            )
        starts = [np.zeros(4), np.log([0.5, 2.0, 0.5, 2.0]), np.log([2.0, 0.5, 2.0, 0.5])]
        theta = _fit_log_params(
            lambda th: _bgnbd_objective(th, rows, customers, self.penalizer_coef),
            starts,
            ("r", "alpha", "a", "b"),
            customers,
        )
        r, alpha, a, b = np.exp(theta)
        self.params_ = {"r": float(r), "alpha": float(alpha * scale), "a": float(a), "b": float(b)}
        self.log_likelihood_ = float(w @ bgnbd_log_likelihood(*self.params_.values(), x, t_x, big_t))
        return self

    def _params(self) -> tuple[float, float, float, float]:
        if not hasattr(self, "params_"):
            raise ModelError("BetaGeoFitter is not fitted: call fit(frequency, recency, T) first")
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]

    def conditional_probability_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """P(alive at T | x, t_x, T) = 1 / (1 + 1{x>0} a/(b+x-1) ((α+T)/(α+t_x))^(r+x)); 1 for x = 0."""
        r, alpha, a, b = self._params()
        x, t_x, big_t = _check_rft(frequency, recency, T, what="P(alive)", allow_empty=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds_dead = np.log(a) - np.log(b + x - 1.0) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        return np.where(x > 0, expit(-log_odds_dead), 1.0)

    def conditional_expected_number_of_purchases_up_to_time(
        self, t: Any, frequency: Any, recency: Any, T: Any
    ) -> np.ndarray:
        """E[purchases in (T, T+t] | x, t_x, T] (FHL 2005, eq. 10).

        ``(a+b+x-1)/(a-1) [1 - ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)] P(alive)`` with
        ``z = t/(α+T+t)``. Euler's transformation ``2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A,C-B;C;z)``
        turns the product into ``(1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``, which neither
        overflows nor underflows for large x. Undefined for a == 1 exactly.
        """
        r, alpha, a, b = self._params()
        x, t_x, big_t = _check_rft(frequency, recency, T, what="expected purchases", allow_empty=True)
        t = _horizon(t)
        z = t / (alpha + big_t + t)
        tail = (1.0 - z) ** (a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
        expected = (a + b + x - 1.0) / (a - 1.0) * (1.0 - tail) * self.conditional_probability_alive(x, t_x, big_t)
        return _finite(expected, "expected purchases")

    def probability_of_no_purchase_within(self, t: Any, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """P(no purchase in (T, T+t] | x, t_x, T) = (1 - P_alive) + P_alive ((α+T)/(α+T+t))^(r+x).

        Derivation: under BG/NBD a customer drops out only right after a purchase, so one alive at T
        stays alive at least until the next purchase; "no purchase in (T, T+t]" is then "no Poisson
        event in an interval of length t". Given alive, the likelihood of λ is λ^x e^(-λT), so its
        posterior is Gamma(r+x, α+T) (independent of p), and E[e^(-λt)] = ((α+T)/(α+T+t))^(r+x).
        A customer who has dropped out makes no purchase with probability 1.
        """
        r, alpha, _, _ = self._params()
        x, t_x, big_t = _check_rft(frequency, recency, T, what="P(no purchase)", allow_empty=True)
        t = _horizon(t)
        alive = self.conditional_probability_alive(x, t_x, big_t)
        quiet_if_alive = np.exp((r + x) * (np.log(alpha + big_t) - np.log(alpha + big_t + t)))
        return (1.0 - alive) + alive * quiet_if_alive

    def expected_number_of_purchases_up_to_time(self, t: Any) -> np.ndarray:
        """E[X(t)] for a new customer (FHL 2005, eq. 9): repeat purchases in (0, t], for the
        cumulative-purchases plot; ``(a+b-1)/(a-1) [1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b-1; z)]``
        with ``z = t/(α+t)`` (the same Euler transformation as above)."""
        r, alpha, a, b = self._params()
        t = _horizon(t)
        z = t / (alpha + t)
        tail = (1.0 - z) ** (a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0, a + b - 1.0, z)
        return _finite((a + b - 1.0) / (a - 1.0) * (1.0 - tail), "expected purchases")

"""Buy-till-you-die models: BG/NBD purchase counts and Gamma-Gamma spend, vectorised.

Shaped like the ``lifetimes`` fitters (``fit(...) -> self``, fitted state in ``params_``) but
written for a million customers: no Python loop per customer, analytic gradients, and the
likelihood evaluated once per *distinct* ``(frequency, recency, T)`` row with a weight (time in
whole days makes most customers share a row with others), while the ``gammaln``/``digamma``
terms that depend only on ``frequency`` are evaluated once per distinct frequency.

Time can be in any unit (days, weeks): before optimising, times are divided by
``max(T) / 10`` so that the optimiser always sees the same well-scaled problem, and ``alpha``
(a rate's scale, in time units) is multiplied back. Fitting the same customers in days and in
weeks therefore gives the same ``r, a, b`` and an ``alpha`` seven times larger in days.
Likewise, spend is divided by its mean for the Gamma-Gamma fit and ``v`` scaled back.

``penalizer_coef`` adds ``coef * sum(params**2)`` to the mean negative log-likelihood, as in
lifetimes, but on the rescaled parameters, so its effect does not depend on the time unit.

References: Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative
to the Pareto/NBD model", Marketing Science 24(2); Fader & Hardie (2013), "The Gamma-Gamma
model of monetary value". The module has no Dagster or database import.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from audience_dagster.errors import ModelConvergenceError, ModelError, ModelNotIdentifiedError

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]

__all__ = [
    "BetaGeoFitter",
    "GammaGammaFitter",
    "bgnbd_log_likelihood",
    "calibration_and_holdout_summary",
    "gamma_gamma_log_likelihood",
    "simulate_bgnbd",
    "summary_data_from_transactions",
]

MIN_CUSTOMERS_BGNBD = 20
BGNBD_PARAMETERS, GG_PARAMETERS = 4, 3  # fewer distinct histories than parameters: not identified
MIN_REPEAT_CUSTOMERS_GG = 5
MAX_LOG_SE = 2.5  # a parameter known only within a factor e^2.5 ≈ 12 either way is not identified
_TIME_SCALE = 10.0  # the largest T the optimiser sees
_LOG_BOUND = 12.0  # internal parameters live in [e^-12, e^12]
_GRAD_TOL = 1e-5  # max |gradient| (mean log-likelihood per log-parameter) accepted as converged


# --- likelihoods (pure) ------------------------------------------------------------------------


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


def gamma_gamma_log_likelihood(p: float, q: float, v: float, frequency: Any, monetary_value: Any) -> np.ndarray:
    """Gamma-Gamma log-likelihood of each repeat customer's mean spend ``m`` over ``x`` purchases
    (Fader & Hardie 2013): ``ln Γ(px+q) - ln Γ(px) - ln Γ(q) + q ln v + (px-1) ln m + px ln x
    - (px+q) ln(xm+v)``. Defined for ``x > 0`` and ``m > 0`` only."""
    x, m = np.asarray(frequency, dtype=float), np.asarray(monetary_value, dtype=float)
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(x * m + v)
    )


# --- input checks ------------------------------------------------------------------------------


def _column(name: str, values: Any) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{name} must be numbers: {exc}") from exc
    return array


def _check_rft(
    frequency: Any, recency: Any, T: Any, *, what: str, allow_empty: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency, recency and T as float arrays (broadcast together), or a ModelError saying
    which rows are wrong."""
    columns = _column("frequency", frequency), _column("recency", recency), _column("T", T)
    try:
        x, t_x, big_t = np.broadcast_arrays(*columns)
    except ValueError as exc:
        shapes = ", ".join(str(c.shape) for c in columns)
        raise ModelError(f"{what}: frequency, recency and T differ in length ({shapes})") from exc
    if x.size == 0 and not allow_empty:
        raise ModelError(f"{what}: no customers given; pass one row per customer (summary_data_from_transactions)")
    for name, column in (("frequency", x), ("recency", t_x), ("T", big_t)):
        bad = ~np.isfinite(column)
        if bad.size and bad.all():
            raise ModelError(f"{what}: {name} is NaN or infinite in all {column.size} rows; check the input columns")
        if bad.any():
            raise ModelError(
                f"{what}: {name} is NaN or infinite in {bad.sum()} of {column.size} rows (first at position "
                f"{np.flatnonzero(bad)[0]}); drop or fill those customers first"
            )
        if (column < 0).any():
            raise ModelError(f"{what}: {name} is negative in {(column < 0).sum()} rows; times and counts are >= 0")
    if (x != np.round(x)).any():
        raise ModelError(f"{what}: frequency must count repeat purchases (whole numbers)")
    late = t_x > big_t * (1 + 1e-9)
    if late.any():
        first = np.flatnonzero(late)[0]
        raise ModelError(
            f"{what}: recency > T in {late.sum()} rows (first at position {first}: recency={t_x[first]}, "
            f"T={big_t[first]}); both must be measured from the first purchase, T up to the end of observation"
        )
    if (t_x[x == 0] > 0).any():
        raise ModelError(f"{what}: recency > 0 for customers with frequency 0; recency is the age at the last repeat")
    return x, t_x, big_t


def _check_weights(weights: Any, size: int) -> np.ndarray:
    if weights is None:
        return np.ones(size)
    w = _column("weights", weights).ravel()
    if w.size != size or not np.isfinite(w).all() or (w < 0).any():
        raise ModelError(f"weights must be {size} finite non-negative numbers (customers per row)")
    return w


def _log_standard_errors(objective: Objective, theta: np.ndarray, customers: float) -> np.ndarray:
    """Standard errors of the log-parameters: the inverse Hessian of the total negative
    log-likelihood (central differences of the analytic gradient); inf where it is singular."""
    step = 1e-4
    hessian = np.empty((theta.size, theta.size))
    for i in range(theta.size):
        shift = np.zeros(theta.size)
        shift[i] = step
        hessian[i] = (objective(theta + shift)[1] - objective(theta - shift)[1]) / (2 * step)
    hessian = (hessian + hessian.T) / 2 * customers
    if not np.all(np.isfinite(hessian)) or np.linalg.eigvalsh(hessian).min() <= 0:
        return np.full(theta.size, np.inf)
    return np.sqrt(np.diag(np.linalg.inv(hessian)))


def _fit_log_params(
    objective: Objective, starts: list[np.ndarray], names: tuple[str, ...], customers: float
) -> np.ndarray:
    """Minimise over log-parameters by L-BFGS-B from several starts; the best optimum, or a
    ModelError if it is not converged or not identified (a parameter runs off to 0 or infinity,
    or is uncertain by more than a factor e^MAX_LOG_SE)."""
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(names)
    best = None
    for start in starts:
        res = minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
        )
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    if best is None:
        raise ModelError("the likelihood is not finite at any starting point; check the input for extreme values")
    advice = "add customers (a longer history) or set penalizer_coef (e.g. 0.001)"
    at_bound = [n for n, v in zip(names, best.x, strict=True) if abs(v) > _LOG_BOUND - 1e-3]
    if at_bound:
        raise ModelNotIdentifiedError(
            f"parameter(s) {', '.join(at_bound)} ran off to 0 or infinity: the data does not identify "
            f"the model; {advice}"
        )
    grad = objective(best.x)[1]
    if not np.all(np.abs(grad) < _GRAD_TOL):
        raise ModelConvergenceError(
            f"the optimiser did not converge ({best.message}; max |gradient| {np.abs(grad).max():.2g}); "
            "check the input for outliers or set penalizer_coef"
        )
    errors = _log_standard_errors(objective, best.x, customers)
    vague = [f"{n} (±{e:.2g})" for n, e in zip(names, errors, strict=True) if not e < MAX_LOG_SE]
    if vague:
        raise ModelNotIdentifiedError(
            f"the data does not identify {', '.join(vague)}: the standard error of its log exceeds "
            f"{MAX_LOG_SE:g}; {advice}"
        )
    return best.x


# --- BG/NBD ------------------------------------------------------------------------------------


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


def _horizon(t: Any) -> np.ndarray:
    horizon = np.asarray(t, dtype=float)
    if not np.isfinite(horizon).all() or (horizon < 0).any():
        raise ModelError(f"the horizon t must be finite and >= 0, got {t!r}")
    return horizon


def _finite(values: np.ndarray, what: str) -> np.ndarray:
    if not np.isfinite(values).all():
        raise ModelError(f"{what}: not finite for {np.size(values) - np.isfinite(values).sum()} rows (a == 1?)")
    return values


# --- Gamma-Gamma -------------------------------------------------------------------------------


def _gg_objective(
    theta: np.ndarray, x: np.ndarray, m: np.ndarray, xs: np.ndarray, nx: np.ndarray, penalizer: float
) -> tuple[float, np.ndarray]:
    """Mean negative Gamma-Gamma log-likelihood and gradient in log-parameters; terms in x only
    are evaluated once per distinct x (``xs`` with counts ``nx``)."""
    p, q, v = params = np.exp(theta)
    n = x.size
    log_xm_v = np.log(x * m + v)
    pxs = p * xs
    ll = nx @ (gammaln(pxs + q) - gammaln(pxs) + pxs * np.log(xs)) + n * (q * np.log(v) - gammaln(q))
    ll += p * (x @ np.log(m)) - np.log(m).sum() - (p * x + q) @ log_xm_v
    psi = digamma(pxs + q)
    d_p = nx @ (xs * (psi - digamma(pxs) + np.log(xs))) + x @ (np.log(m) - log_xm_v)
    d_q = nx @ psi - n * digamma(q) + n * np.log(v) - log_xm_v.sum()
    d_v = n * q / v - ((p * x + q) / (x * m + v)).sum()
    grad = -np.array([d_p, d_q, d_v]) * params / n + 2 * penalizer * params**2
    return float(-ll / n + penalizer * (params**2).sum()), grad


class GammaGammaFitter:
    """Gamma-Gamma spend model: a customer's purchase values are Gamma(p, ν), ν ~ Gamma(q, v)."""

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        self.penalizer_coef = penalizer_coef

    def fit(self, frequency: Any, monetary_value: Any) -> GammaGammaFitter:
        """Fit on repeat customers (rows with frequency 0 are ignored); ``monetary_value`` is the
        mean value of the repeat purchases. Sets ``params_`` (p, q, v) and ``log_likelihood_``."""
        x, m = _column("frequency", frequency).ravel(), _column("monetary_value", monetary_value).ravel()
        if x.size != m.size:
            raise ModelError(f"Gamma-Gamma fit: frequency and monetary_value differ in length ({x.size}, {m.size})")
        if x.size == 0 or not (np.isfinite(x) & np.isfinite(m)).any():
            raise ModelError("Gamma-Gamma fit: no customers with a finite frequency and monetary_value given")
        if not (np.isfinite(x).all() and np.isfinite(m).all()):
            raise ModelError("Gamma-Gamma fit: frequency or monetary_value is NaN or infinite; drop or fill those rows")
        if (x < 0).any() or (m < 0).any():
            raise ModelError("Gamma-Gamma fit: negative frequency or monetary_value; refunds are not purchases")
        repeat = x > 0
        x, m = x[repeat], m[repeat]
        if x.size < MIN_REPEAT_CUSTOMERS_GG:
            raise ModelError(
                f"Gamma-Gamma fit: {x.size} repeat customers; at least {MIN_REPEAT_CUSTOMERS_GG} are needed to "
                "identify p, q, v: use a longer history"
            )
        if (m == 0).any():
            raise ModelError(f"Gamma-Gamma fit: {(m == 0).sum()} repeat customers have monetary_value 0; drop them")
        distinct = np.unique(np.column_stack([x, m]), axis=0).shape[0]
        if distinct < GG_PARAMETERS:  # degenerate: no optimiser can separate p, q and v
            raise ModelNotIdentifiedError(
                f"Gamma-Gamma fit: the {x.size} repeat customers have {distinct} distinct (frequency, "
                f"monetary_value) pairs; its {GG_PARAMETERS} parameters need at least {GG_PARAMETERS}"
            )
        scale = m.mean()
        xs, nx = np.unique(x, return_counts=True)
        starts = [np.zeros(3), np.log([5.0, 3.0, 2.0]), np.log([0.5, 0.5, 0.5])]
        theta = _fit_log_params(
            lambda th: _gg_objective(th, x, m / scale, xs, nx.astype(float), self.penalizer_coef),
            starts,
            ("p", "q", "v"),
            float(x.size),
        )
        p, q, v = np.exp(theta)
        self.params_ = {"p": float(p), "q": float(q), "v": float(v * scale)}
        self.log_likelihood_ = float(gamma_gamma_log_likelihood(*self.params_.values(), x, m).sum())
        return self

    def conditional_expected_average_profit(self, frequency: Any, monetary_value: Any) -> np.ndarray:
        """E[mean spend | x, m] = (p (v + x m)) / (p x + q - 1): a weighted average of the population
        mean p v / (q - 1) and the customer's own mean; the population mean for x == 0."""
        if not hasattr(self, "params_"):
            raise ModelError("GammaGammaFitter is not fitted: call fit(frequency, monetary_value) first")
        p, q, v = self.params_["p"], self.params_["q"], self.params_["v"]
        if q <= 1:
            raise ModelError(f"Gamma-Gamma: q = {q:.3g} <= 1, the mean spend is infinite; check the spend data")
        try:
            x, m = np.broadcast_arrays(_column("frequency", frequency), _column("monetary_value", monetary_value))
        except ValueError as exc:
            raise ModelError("Gamma-Gamma: frequency and monetary_value differ in length") from exc
        if not (np.isfinite(x).all() and np.isfinite(m).all()) or (x < 0).any() or (m < 0).any():
            raise ModelError("Gamma-Gamma: frequency and monetary_value must be finite and >= 0")
        m = np.where(x > 0, m, 0.0)
        return p * (v + x * m) / (p * x + q - 1.0)


# --- summaries from transactions ---------------------------------------------------------------


def _days(values: Any) -> np.ndarray:
    """Dates (datetime64, Timestamps or ISO 8601 strings) as datetime64[D], NaT refused; a
    timezone-aware date counts on its local calendar day."""
    series = pd.Series(np.asarray(values)) if not isinstance(values, pd.Series) else values
    if not pd.api.types.is_datetime64_any_dtype(series):
        series = pd.to_datetime(series, format="ISO8601", errors="coerce")
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_localize(None)
    days = series.to_numpy().astype("datetime64[D]")
    if np.isnat(days).any():
        raise ModelError(f"{np.isnat(days).sum()} transaction dates are missing or unparseable")
    return days


def _daily(customer_ids: Any, dates: Any, amounts: Any) -> pd.DataFrame:
    """Transactions aggregated per (customer, day), sorted: one purchase per day, amounts summed."""
    ids = pd.Series(np.asarray(customer_ids)).reset_index(drop=True)
    days = _days(dates)
    money = np.zeros(ids.size) if amounts is None else _column("amounts", amounts).ravel()
    if not (ids.size == days.size == money.size):
        raise ModelError(f"customer_ids, dates and amounts differ in length ({ids.size}, {days.size}, {money.size})")
    if ids.isna().any():
        raise ModelError(f"{ids.isna().sum()} transactions have no customer id")
    if not np.isfinite(money).all() or (money < 0).any():
        raise ModelError("amounts must be finite and >= 0 (refunds are not purchases)")
    frame = pd.DataFrame({"customer_id": ids, "day": days, "amount": money})
    return frame.groupby(["customer_id", "day"], sort=True, as_index=False)["amount"].sum()


def summary_data_from_transactions(
    customer_ids: Any, dates: Any, amounts: Any, observation_end: Any, freq_days: float = 1.0
) -> pd.DataFrame:
    """One row per customer (index ``customer_id``): ``frequency`` (distinct purchase days after the
    first), ``recency`` (first to last purchase day) and ``T`` (first purchase day to
    ``observation_end``, inclusive) in units of ``freq_days`` days (7 → weeks), and
    ``monetary_value`` (mean spend per repeat purchase day, 0 when frequency is 0; omitted when
    ``amounts`` is None). Several purchases on one day count as one, amounts summed, as in
    lifetimes' ``summary_data_from_transaction_data(freq="D")``. Purchases after
    ``observation_end`` are ignored; ``observation_end=None`` means the last purchase day."""
    daily = _daily(customer_ids, dates, amounts)
    end = daily["day"].max() if observation_end is None else _days([observation_end])[0]
    daily = daily[daily["day"] <= end]
    if daily.empty:
        raise ModelError(f"no transactions on or before observation_end {observation_end}")
    by_customer = daily.groupby("customer_id", sort=True)
    first, last = by_customer["day"].min(), by_customer["day"].max()
    count = by_customer["day"].size()
    frequency = (count - 1).astype(float)
    summary = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last - first).dt.days / freq_days,
            "T": (end - first).dt.days / freq_days,
        }
    )
    if amounts is not None:
        repeat_spend = by_customer["amount"].sum() - by_customer["amount"].first()
        summary["monetary_value"] = np.where(frequency > 0, repeat_spend / frequency.where(frequency > 0, 1.0), 0.0)
    return summary.astype(float)


def calibration_and_holdout_summary(
    customer_ids: Any,
    dates: Any,
    amounts: Any,
    calibration_end: Any,
    observation_end: Any,
    freq_days: float = 1.0,
) -> pd.DataFrame:
    """The summary of the calibration period (purchases up to ``calibration_end`` inclusive;
    columns suffixed ``_cal``) of every customer seen in it, with ``frequency_holdout`` (purchase
    days in ``(calibration_end, observation_end]``), ``monetary_value_holdout`` (mean spend per
    holdout purchase day, 0 if none) and ``duration_holdout``, in ``freq_days`` units."""
    daily = _daily(customer_ids, dates, amounts)
    cal_end, obs_end = _days([calibration_end])[0], _days([observation_end])[0]
    if obs_end <= cal_end:
        raise ModelError(f"observation_end {observation_end} must be after calibration_end {calibration_end}")
    cal = daily[daily["day"] <= cal_end]
    summary = summary_data_from_transactions(cal["customer_id"], cal["day"], cal["amount"], cal_end, freq_days)
    summary.columns = [f"{c}_cal" for c in summary.columns]
    holdout = daily[(daily["day"] > cal_end) & (daily["day"] <= obs_end)].groupby("customer_id")["amount"]
    summary["frequency_holdout"] = holdout.size().reindex(summary.index, fill_value=0).astype(float)
    summary["monetary_value_holdout"] = holdout.mean().reindex(summary.index, fill_value=0.0)
    if amounts is None:
        summary = summary.drop(columns="monetary_value_holdout")
    summary["duration_holdout"] = float((obs_end - cal_end).astype(int)) / freq_days
    return summary


# --- simulation and benchmark ------------------------------------------------------------------


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


def _benchmark(customers: int = 1_000_000, seed: int = 7) -> str:
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
    print(_benchmark(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000))

"""Gamma-Gamma spend model (Fader & Hardie 2013): the likelihood, its objective and
:class:`GammaGammaFitter`."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import digamma, gammaln

from audience_dagster.errors import ModelError, ModelNotIdentifiedError
from audience_dagster.predictions.btyd.fitting import _column, _fit_log_params

MIN_REPEAT_CUSTOMERS_GG = 5
GG_PARAMETERS = 3  # fewer distinct (frequency, spend) pairs than parameters: not identified


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

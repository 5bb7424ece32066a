"""What the BTYD fitters share: input checks, and the maximum-likelihood search over
log-parameters with its convergence and identification checks (pure numpy / scipy)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import minimize

from audience_dagster.errors import ModelConvergenceError, ModelError, ModelNotIdentifiedError

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]

MAX_LOG_SE = 2.5  # a parameter known only within a factor e^2.5 ≈ 12 either way is not identified
_TIME_SCALE = 10.0  # the largest T the optimiser sees
_LOG_BOUND = 12.0  # internal parameters live in [e^-12, e^12]
_GRAD_TOL = 1e-5  # max |gradient| (mean log-likelihood per log-parameter) accepted as converged


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


def _horizon(t: Any) -> np.ndarray:
    horizon = np.asarray(t, dtype=float)
    if not np.isfinite(horizon).all() or (horizon < 0).any():
        raise ModelError(f"the horizon t must be finite and >= 0, got {t!r}")
    return horizon


def _finite(values: np.ndarray, what: str) -> np.ndarray:
    if not np.isfinite(values).all():
        raise ModelError(f"{what}: not finite for {np.size(values) - np.isfinite(values).sum()} rows (a == 1?)")
    return values

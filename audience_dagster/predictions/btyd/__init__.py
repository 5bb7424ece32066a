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
model of monetary value". The package has no Dagster or database import:
``bgnbd.py`` and ``gamma_gamma.py`` hold one fitter each, ``fitting.py`` the checks and
the optimiser they share, ``summaries.py`` the per-customer summaries, ``simulate.py`` the
simulator; the benchmark is ``audience_dagster/bench/btyd_fit.py``.
"""

from __future__ import annotations

from audience_dagster.predictions.btyd.bgnbd import BetaGeoFitter, bgnbd_log_likelihood
from audience_dagster.predictions.btyd.gamma_gamma import GammaGammaFitter, gamma_gamma_log_likelihood
from audience_dagster.predictions.btyd.simulate import simulate_bgnbd
from audience_dagster.predictions.btyd.summaries import (
    calibration_and_holdout_summary,
    summary_data_from_transactions,
)

__all__ = [
    "BetaGeoFitter",
    "GammaGammaFitter",
    "bgnbd_log_likelihood",
    "calibration_and_holdout_summary",
    "gamma_gamma_log_likelihood",
    "simulate_bgnbd",
    "summary_data_from_transactions",
]

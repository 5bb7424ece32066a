"""The buy-till-you-die side: BG/NBD + Gamma-Gamma features, and the baseline they give.

:func:`btyd_features` fits BG/NBD and Gamma-Gamma on the customers of a feature frame (the
``btyd_*`` columns, purchase days in days) and adds, per profile: the probability of being
alive, expected purchases and the probability of no purchase in each horizon, the expected
order value and the BTYD lifetime value. Non-customers (no purchase yet) get NaN: BG/NBD is a
model of customers after their first purchase, and says nothing about who will buy first.

The trap the issue names: for a one-time buyer (frequency 0) BG/NBD's P(alive) is 1 — the
model has seen no purchase after which the person could have left — so ``1 - P(alive)`` is
0 for exactly the customers most likely to be gone. The churn baseline is therefore
``P(no purchase in the horizon)``, which also accounts for a live customer's slow rate.

:class:`Baseline` turns those into predictions of every type: BTYD for customers, the base
rates of the training cutoff for everyone else (and for customers when BTYD cannot be fitted).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from audience_dagster.errors import AudienceError
from audience_dagster.predictions.btyd import BetaGeoFitter, GammaGammaFitter

BGNBD_INPUTS = ("btyd_frequency", "btyd_recency_days", "btyd_age_days")  # x, t_x, T in days


@dataclass
class BtydFit:
    """Fitted parameters (None when the data could not identify them) and why not."""

    bgnbd: dict[str, float] | None = None
    gamma_gamma: dict[str, float] | None = None
    problems: list[str] = field(default_factory=list)
    zero_spend_repeaters: int = 0  # left out of the Gamma-Gamma fit (it needs a spend > 0)
    bg: BetaGeoFitter | None = None
    gg: GammaGammaFitter | None = None

    @property
    def usable(self) -> bool:
        return self.bgnbd is not None

    def to_json(self) -> dict[str, object]:
        """The parameters and problems (the fitters are rebuilt from the parameters)."""
        return {
            "bgnbd": self.bgnbd,
            "gamma_gamma": self.gamma_gamma,
            "problems": list(self.problems),
            "zero_spend_repeaters": self.zero_spend_repeaters,
        }

    @classmethod
    def from_json(cls, data: dict) -> BtydFit:
        """The fit :meth:`to_json` described, its fitters predicting from the same parameters."""
        fit = cls(data.get("bgnbd"), data.get("gamma_gamma"), list(data.get("problems", [])))
        fit.zero_spend_repeaters = int(data.get("zero_spend_repeaters", 0))
        if fit.bgnbd is not None:
            fit.bg = BetaGeoFitter(penalizer_coef=fit.bgnbd["penalizer_coef"])
            fit.bg.params_ = {k: float(fit.bgnbd[k]) for k in ("r", "alpha", "a", "b")}
        if fit.gamma_gamma is not None:
            fit.gg = GammaGammaFitter(penalizer_coef=fit.gamma_gamma["penalizer_coef"])
            fit.gg.params_ = {k: float(fit.gamma_gamma[k]) for k in ("p", "q", "v")}
        return fit


PENALIZERS = (0.0, 0.01, 0.1)  # tried in turn: a small penalty lets tens of customers identify the model


def fit_btyd(frame: pd.DataFrame) -> BtydFit:
    """Fit both models on the customers of ``frame``; a fit the data cannot support is reported,
    not raised. When the plain fit fails (too few customers to identify the parameters), the
    fit is retried with a growing ``penalizer_coef`` and the problem says so.

    Gamma-Gamma is a model of positive spend: repeat customers whose repeat purchases are worth
    0 (free orders, 100% discounts) are left out of its fit and counted in
    ``zero_spend_repeaters``; they are still scored (their expected order value shrinks
    towards the population's from their own 0). One such customer never switches the spend
    model off for everybody."""
    customers = frame[frame["orders"] > 0]
    repeat = customers[customers["btyd_frequency"] > 0]
    zero = ~(repeat["btyd_monetary"] > 0)
    repeat = repeat[~zero]
    fit = BtydFit(zero_spend_repeaters=int(zero.sum()))
    if fit.zero_spend_repeaters:
        fit.problems.append(
            f"Gamma-Gamma: {fit.zero_spend_repeaters} repeat customers with zero spend left out of its fit"
        )
    for penalizer in PENALIZERS:
        try:
            fit.bg = BetaGeoFitter(penalizer_coef=penalizer).fit(*(customers[c] for c in BGNBD_INPUTS))
            fit.bgnbd = {k: float(v) for k, v in fit.bg.params_.items()} | {"penalizer_coef": penalizer}
            break
        except AudienceError as exc:
            fit.problems.append(f"BG/NBD (penalizer {penalizer}): {exc}")
    for penalizer in PENALIZERS:
        try:
            fit.gg = GammaGammaFitter(penalizer_coef=penalizer).fit(repeat["btyd_frequency"], repeat["btyd_monetary"])
            fit.gamma_gamma = {k: float(v) for k, v in fit.gg.params_.items()} | {"penalizer_coef": penalizer}
            break
        except AudienceError as exc:
            fit.problems.append(f"Gamma-Gamma (penalizer {penalizer}): {exc}")
    return fit


def btyd_features(
    frame: pd.DataFrame, horizons_days: dict[str, int], fit: BtydFit | None = None
) -> tuple[pd.DataFrame, BtydFit]:
    """BTYD columns per profile (NaN for non-customers or when a fit failed), one set per horizon,
    from ``fit`` or, without one, a fit on the customers of ``frame``."""
    fit = fit if fit is not None else fit_btyd(frame)
    bg, gg = fit.bg, fit.gg
    out = pd.DataFrame(index=frame.index)
    customer = (frame["orders"] > 0).to_numpy()
    x = frame["btyd_frequency"].to_numpy(float)[customer]
    t_x = frame["btyd_recency_days"].to_numpy(float)[customer]
    age = frame["btyd_age_days"].to_numpy(float)[customer]

    def column(values: np.ndarray | None) -> np.ndarray:
        full = np.full(len(frame), np.nan)
        if values is not None:
            full[customer] = values
        return full

    out["btyd_p_alive"] = column(bg.conditional_probability_alive(x, t_x, age) if bg else None)
    if gg is not None:
        # a refund-heavy (negative) or missing spend counts as 0: the expectation shrinks it upwards
        spend = np.nan_to_num(frame["btyd_monetary"].to_numpy(float)[customer], nan=0.0).clip(min=0.0)
        value = gg.conditional_expected_average_profit(x, spend)
    else:
        # no Gamma-Gamma: the person's own average order value
        value = frame["avg_order_value"].to_numpy(float)[customer]
    out["btyd_order_value"] = column(value)
    for kind, days in sorted(horizons_days.items()):
        expected = bg.conditional_expected_number_of_purchases_up_to_time(days, x, t_x, age) if bg else None
        out[f"btyd_expected_purchases_{days}d"] = column(expected)
        if kind.removesuffix("_label") in ("churn", "next_purchase", "upgrade"):
            none = bg.probability_of_no_purchase_within(days, x, t_x, age) if bg else None
            out[f"btyd_p_no_purchase_{days}d"] = column(none)
        if kind.startswith("ltv"):
            out[f"btyd_ltv_{days}d"] = column(expected * value if expected is not None else None)
    out.attrs["bgnbd_penalizer"] = fit.bgnbd["penalizer_coef"] if fit.bgnbd else None
    out.attrs["gamma_gamma"] = gg is not None
    return out, fit


def spend_tier(revenue: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """0 = no spend; 1..len(edges)+1 = the band of ``revenue`` between the edges (right-closed)."""
    revenue = np.nan_to_num(np.asarray(revenue, dtype=float))
    return np.where(revenue > 0, 1 + np.searchsorted(edges, revenue, side="left"), 0)


@dataclass
class Baseline:
    """What the BTYD baseline predicts, with the base rates of a training cutoff as fallback."""

    horizons_days: dict[str, int]
    noncustomer_rate: dict[str, float]  # churn: P(no purchase); next_purchase, upgrade: P(event); ltv: mean
    customer_rate: dict[str, float]
    tier_upgrade_rate: dict[int, float]
    tier_edges: np.ndarray

    @classmethod
    def from_training(
        cls, frame: pd.DataFrame, targets: pd.DataFrame, horizons_days: dict[str, int], tier_edges: np.ndarray
    ) -> Baseline:
        customer = frame["orders"] > 0
        rates = {kind: {} for kind in ("customer", "noncustomer")}
        for kind in targets.columns:
            for group, mask in (("customer", customer), ("noncustomer", ~customer)):
                values = targets.loc[mask, kind]
                rates[group][kind] = float(values.mean()) if len(values) else float("nan")
        tiers = spend_tier(frame["revenue_365d"].to_numpy(), tier_edges)
        by_tier = targets["upgrade"].groupby(tiers).mean() if "upgrade" in targets else pd.Series(dtype=float)
        return cls(
            horizons_days=dict(horizons_days),
            noncustomer_rate=rates["noncustomer"],
            customer_rate=rates["customer"],
            tier_upgrade_rate={int(k): float(v) for k, v in by_tier.items()},
            tier_edges=np.asarray(tier_edges, dtype=float),
        )

    def rates(self, kind: str, frame: pd.DataFrame) -> np.ndarray:
        """The base rates of the training cutoff per profile: by customer / not, and for upgrade
        by spend tier; NaN where no label measured them."""
        customer = (frame["orders"] > 0).to_numpy()
        fallback = np.where(
            customer,
            _finite(self.customer_rate.get(kind)),
            _finite(self.noncustomer_rate.get(kind)),
        )
        if kind == "upgrade":
            tiers = spend_tier(frame["revenue_365d"].to_numpy(), self.tier_edges)
            rate = pd.Series(tiers).map(self.tier_upgrade_rate).to_numpy(float)
            return np.where(np.isnan(rate), fallback, rate)
        return fallback

    def predict(self, kind: str, frame: pd.DataFrame, btyd: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(prediction, uses_btyd) per profile of ``frame``; ``btyd`` from :func:`btyd_features`:
        BTYD for customers where it has a value, the base rates (:meth:`rates`) otherwise."""
        days = self.horizons_days[kind]
        customer = (frame["orders"] > 0).to_numpy()
        fallback = self.rates(kind, frame)
        if kind == "upgrade":
            return fallback, np.zeros(len(frame), bool)
        if kind == "ltv":
            model = btyd.get(f"btyd_ltv_{days}d")
            model = model.to_numpy(float) if model is not None else np.full(len(frame), np.nan)
        else:
            none = btyd.get(f"btyd_p_no_purchase_{days}d")
            none = none.to_numpy(float) if none is not None else np.full(len(frame), np.nan)
            model = none if kind == "churn" else 1.0 - none
        uses = customer & np.isfinite(model)
        return np.where(uses, model, fallback), uses


def _finite(value: float | None) -> float:
    """A base rate, or NaN when no labels existed to measure it (the prediction is then null)."""
    return float("nan") if value is None or not np.isfinite(value) else float(value)

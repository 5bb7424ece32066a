"""Per-customer BTYD summaries (frequency, recency, T, monetary value) from transactions, as
lifetimes' ``summary_data_from_transaction_data`` and ``calibration_and_holdout_data``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from audience_dagster.errors import ModelError
from audience_dagster.predictions.btyd.fitting import _column


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

"""The CDNOW data shipped in the ``lifetimes`` wheel: the BTYD literature's reference data set.

CDNOW (an online music shop) customers who made their first purchase in the first quarter of
1997, followed to the end of June 1998 (Fader & Hardie 2001). ``CDNOW_sample.txt`` is the 1/10
sample of 2,357 customers used in Fader, Hardie & Lee (2005); ``CDNOW_master.txt`` the full
cohort of 23,570. The literature calibrates on the first 39 weeks (to 1997-09-30 inclusive)
and tests on the next 39 weeks (to 1998-06-30).

The files are located without importing lifetimes (whose import breaks under pandas 3).
CDNOW has several rows per customer on some days: ``cdnow_transactions`` keeps them as separate
orders; :func:`~audience_dagster.predictions.btyd.summary_data_from_transactions` counts one
purchase per customer and day, as the literature does.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from typing import Literal

import pandas as pd

from audience_dagster.errors import IngestError
from audience_dagster.predictions.btyd import calibration_and_holdout_summary, summary_data_from_transactions

CALIBRATION_END = "1997-09-30"  # inclusive: 39 weeks from 1997-01-01
OBSERVATION_END = "1998-06-30"  # the 39-week holdout ends here, inclusive
_FILES = {"sample": "CDNOW_sample.txt", "master": "CDNOW_master.txt"}


def cdnow_dataset_dir() -> Path:
    """The ``datasets/`` folder of the installed lifetimes package (not imported)."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        raise IngestError("the CDNOW data ships with the lifetimes package: pip install lifetimes")
    return Path(spec.submodule_search_locations[0]) / "datasets"


def cdnow_transactions(kind: Literal["sample", "master"] = "sample") -> pd.DataFrame:
    """CDNOW transactions, one row per line of the file: ``customer_id`` (int), ``date``
    (datetime64), ``amount`` (dollars), in file order.

    ``sample`` lines are ``master id, sample id, YYYYMMDD, number of CDs, dollars``; its customer
    id is the sample id (1..2357), as in lifetimes' ``cdnow_customers_summary*.csv``. ``master``
    has a header and lines ``customer id, YYYYMMDD, number of CDs, dollars``.
    """
    if kind not in _FILES:
        raise IngestError(f"unknown CDNOW data set {kind!r}: use 'sample' or 'master'")
    path = cdnow_dataset_dir() / _FILES[kind]
    if not path.is_file():
        raise IngestError(f"{path} is missing: reinstall lifetimes (pip install --force-reinstall lifetimes)")
    if kind == "sample":
        names, customer = ["master_id", "customer_id", "date", "cds", "amount"], "customer_id"
        raw = pd.read_csv(path, sep=r"\s+", header=None, names=names, dtype={"date": str})
    else:
        names, customer = ["customer_id", "date", "cds", "amount"], "customer_id"
        raw = pd.read_csv(path, sep=r"\s+", header=None, skiprows=1, names=names, dtype={"date": str})
    return pd.DataFrame(
        {
            "customer_id": raw[customer].astype(int),
            "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["amount"].astype(float),
        }
    )


def write_cdnow_orders_csv(
    path: Path,
    kind: Literal["sample", "master"] = "sample",
    customer_prefix: str = "cdnow-",
    until: str | None = None,
) -> int:
    """Write CDNOW as an orders CSV that ``ingest.historical_orders`` accepts; returns the rows.

    Header ``order_id,customer_id,order_date,amount``; ``order_id`` is ``cdnow-<customer>-<line>``
    (1-based line of the source file, so re-writing gives the same ids), ``customer_id`` is
    ``customer_prefix`` + the CDNOW id (so they cannot collide with other sources' ids),
    ``order_date`` ISO ``YYYY-MM-DD``. Several rows of one customer on one day stay separate
    orders (that is what the shop recorded); the BTYD summary merges them per day.
    """
    orders = cdnow_transactions(kind)
    if until is not None:
        orders = orders[orders["date"] <= pd.Timestamp(until)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["order_id", "customer_id", "order_date", "amount"])
        writer.writerows(
            zip(
                [f"cdnow-{c}-{i}" for i, c in zip(orders["customer_id"], orders.index + 1, strict=True)],
                customer_prefix + orders["customer_id"].astype(str),
                orders["date"].dt.strftime("%Y-%m-%d"),
                orders["amount"].map("{:.2f}".format),
                strict=True,
            )
        )
    return len(orders)


def cdnow_summary(kind: Literal["sample", "master"] = "sample", freq_days: float = 7.0) -> pd.DataFrame:
    """The calibration-period summary (frequency, recency, T, monetary_value) in weeks by
    default, as in lifetimes' ``cdnow_customers_summary.csv``."""
    orders = cdnow_transactions(kind)
    return summary_data_from_transactions(
        orders["customer_id"], orders["date"], orders["amount"], CALIBRATION_END, freq_days
    )


def cdnow_calibration_holdout(kind: Literal["sample", "master"] = "sample", freq_days: float = 7.0) -> pd.DataFrame:
    """The literature's split: calibration to 1997-09-30 inclusive (39 weeks), holdout
    1997-10-01..1998-06-30 (39 weeks); see ``btyd.calibration_and_holdout_summary``."""
    orders = cdnow_transactions(kind)
    return calibration_and_holdout_summary(
        orders["customer_id"], orders["date"], orders["amount"], CALIBRATION_END, OBSERVATION_END, freq_days
    )

"""Ground truth: who every identifier belongs to, the latent traits, and the holdout orders.

Each chunk writes header-less fragments under ``truth/.parts``; :func:`merge_fragments`
concatenates them in chunk order under one header, so the files do not depend on how many
workers ran.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from audience_dagster.sample_data.devices import Devices
from audience_dagster.sample_data.encode import iso_ms
from audience_dagster.sample_data.params import Window
from audience_dagster.sample_data.population import PLATFORMS, Population
from audience_dagster.sample_data.purchases import CUSTOMER_ID_BASE, PurchaseHistory

HEADERS = {
    "identifiers": "identifier_type,identifier_value,person_id",
    "people": "person_id,acquired_at,is_known,is_customer,engagement,purchase_rate,"
    "dropout_prob,spend_mean,price_sensitivity,interests,churned_at,alive_at_end,"
    "orders_observed,revenue_observed,orders_holdout,revenue_holdout",
    "holdout_orders": "person_id,order_at,amount",
    "malformed": "source,file,line,kind",
}
TRUTH_COLUMNS = {
    "identifiers.csv": "every identifier that appears in a valid landing record, with its "
    "owner; types: anonymous_id, device_id, user_id, email (trimmed, lower "
    "case), phone (E.164), shopify_customer_id, email_provider_id (SendGrid "
    "contact_id), social_handle (platform:handle, lower case, no '@'), "
    "shopify_order_id; a shared device's ids appear once per person",
    "people.csv": "latent traits; purchase_rate in purchases per day while alive, dropout_prob "
    "per purchase, spend_mean in dollars per order; churned_at is the purchase "
    "after which the person dropped out (empty if alive at the end); "
    "alive_at_end is false for non-customers; revenue is total_price in dollars",
    "holdout_orders.csv": "every purchase in the holdout window (after `end`), amount in dollars",
    "malformed.csv": "file relative to landing/, 1-based line (the CSV header is line 1)",
    "junk_identifiers.csv": "identifier values in the landing data that belong to nobody",
}


@dataclass
class Exposure:
    """What a chunk's landing data shows, per identifier type (chunk-local person indices)."""

    anonymous_pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    device_pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    handle_pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    user_id: list[np.ndarray] = field(default_factory=list)
    email: list[np.ndarray] = field(default_factory=list)
    phone: list[np.ndarray] = field(default_factory=list)
    customer_id: list[np.ndarray] = field(default_factory=list)
    contact_id: list[np.ndarray] = field(default_factory=list)
    order_ids: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # (id, person)


def _union(parts: list[np.ndarray]) -> np.ndarray:
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def identifier_rows(exposure: Exposure, pop: Population, devices: Devices) -> list[str]:
    pid = pop.ids.person_id
    rows: list[str] = []

    def add(kind: str, values: list[str], persons: np.ndarray) -> None:
        rows.extend(f"{kind},{v},{p}" for v, p in zip(values, pid[persons].tolist(), strict=True))

    slots, persons = exposure.anonymous_pairs[:, 0], exposure.anonymous_pairs[:, 1]
    add("anonymous_id", devices.slot_anonymous_id[slots].tolist(), persons)
    dev, persons = exposure.device_pairs[:, 0], exposure.device_pairs[:, 1]
    add("device_id", devices.device_id[dev].tolist(), persons)
    persons = _union(exposure.user_id)
    add("user_id", pop.ids.user_id[persons].tolist(), persons)
    persons = _union(exposure.email)
    add("email", pop.ids.email[persons].tolist(), persons)
    persons = _union(exposure.phone)
    add("phone", pop.ids.phone_e164[persons].tolist(), persons)
    persons = _union(exposure.customer_id)
    add("shopify_customer_id", (CUSTOMER_ID_BASE + pop.index[persons]).astype(str).tolist(), persons)
    persons = _union(exposure.contact_id)
    add("email_provider_id", pop.contact_id[persons].tolist(), persons)
    persons, platform = exposure.handle_pairs[:, 0], exposure.handle_pairs[:, 1]
    add(
        "social_handle",
        [
            f"{PLATFORMS[k]}:{h.lstrip('@').lower()}"
            for k, h in zip(platform.tolist(), pop.ids.handle[persons].tolist(), strict=True)
        ],
        persons,
    )
    if exposure.order_ids:
        ids = np.concatenate([i for i, _ in exposure.order_ids])
        owners = np.concatenate([p for _, p in exposure.order_ids])
        ids, first = np.unique(ids, return_index=True)
        add("shopify_order_id", ids.astype(str).tolist(), owners[first])
    return rows


def _flag(values: np.ndarray) -> list[str]:
    return ["true" if v else "false" for v in values.tolist()]


def people_rows(pop: Population, history: PurchaseHistory, window: Window) -> list[str]:
    orders = history.orders
    observed = orders.at < window.end
    n = pop.size
    count_obs = np.bincount(orders.person[observed], minlength=n)
    count_hold = np.bincount(orders.person[~observed], minlength=n)
    rev_obs = np.bincount(orders.person[observed], weights=orders.total_cents[observed], minlength=n).astype(np.int64)
    rev_hold = np.bincount(orders.person[~observed], weights=orders.total_cents[~observed], minlength=n).astype(
        np.int64
    )
    churned = history.churned_at >= 0
    churned_iso = np.where(churned, np.asarray(iso_ms(np.maximum(history.churned_at, 0)), dtype=object), "")
    alive = pop.customer & ~churned
    return [
        f"{p},{a},{k},{c},{e:.4f},{r:.6f},{d:.4f},{s:.2f},{ps:.4f},{i},{ch},{al},"
        f"{oo},{ro // 100}.{ro % 100:02d},{oh},{rh // 100}.{rh % 100:02d}"
        for p, a, k, c, e, r, d, s, ps, i, ch, al, oo, ro, oh, rh in zip(
            pop.ids.person_id.tolist(),
            iso_ms(pop.acquired),
            _flag(pop.known),
            _flag(pop.customer),
            pop.engagement.tolist(),
            pop.purchase_rate.tolist(),
            pop.dropout_prob.tolist(),
            pop.spend_mean.tolist(),
            pop.price_sensitivity.tolist(),
            pop.interest_labels(),
            churned_iso.tolist(),
            _flag(alive),
            count_obs.tolist(),
            rev_obs.tolist(),
            count_hold.tolist(),
            rev_hold.tolist(),
            strict=True,
        )
    ]


def holdout_rows(pop: Population, history: PurchaseHistory, window: Window) -> list[str]:
    orders = history.orders
    rows = np.flatnonzero(orders.at >= window.end)
    return [
        f"{p},{t},{c // 100}.{c % 100:02d}"
        for p, t, c in zip(
            pop.ids.person_id[orders.person[rows]].tolist(),
            iso_ms(orders.at[rows]),
            orders.total_cents[rows].tolist(),
            strict=True,
        )
    ]


def fragment_path(parts_dir: Path, name: str, chunk: int) -> Path:
    return parts_dir / f"{name}-{chunk:05d}.csv"


def write_fragment(parts_dir: Path, name: str, chunk: int, rows: list[str]) -> None:
    with fragment_path(parts_dir, name, chunk).open("w", encoding="utf-8", newline="\n") as f:
        for start in range(0, len(rows), 200_000):
            f.write("".join(r + "\n" for r in rows[start : start + 200_000]))


def merge_fragments(parts_dir: Path, truth_dir: Path, chunks: int) -> list[Path]:
    """Concatenate each truth table's fragments (chunk order) under its header."""
    written = []
    for name, header in HEADERS.items():
        target = truth_dir / f"{name}.csv"
        with target.open("wb") as out:
            out.write((header + "\n").encode())
            for chunk in range(chunks):
                part = fragment_path(parts_dir, name, chunk)
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, 8 << 20)
                part.unlink()
        written.append(target)
    shutil.rmtree(parts_dir, ignore_errors=True)
    return written

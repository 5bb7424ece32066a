"""Purchases: a buy-till-you-die process (BG/NBD with Gamma-Gamma spend), then the baskets.

Each customer makes a first purchase shortly after acquisition, then purchases at rate λ
(exponential gaps) and, after every purchase, drops out for good with probability p. The
process runs through the observed window and on through the holdout, so the holdout orders
(ground truth only) come from exactly the same process. Order value follows the person's
spend level; the basket is built from catalogue products priced to match it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audience_dagster.sample_data.catalog import Catalog
from audience_dagster.sample_data.encode import DAY_MS
from audience_dagster.sample_data.names import CITY_TAX_BP
from audience_dagster.sample_data.params import Window
from audience_dagster.sample_data.population import Population, pick_interest_category

MAX_ORDERS = 999  # per person: order ids have room for 1,000 per person
ORDER_ID_BASE = 4_000_000_000_000
CUSTOMER_ID_BASE = 6_000_000_000_000
LINE_ITEM_ID_BASE = 11_000_000_000_000
FIRST_PURCHASE_DAYS = 20.0  # mean wait from acquisition to the first purchase
GUEST_SHARE = 0.03
WEB_TWIN_SHARE = 0.85  # orders whose checkout is also tracked by Segment on a device

# code, type, value (percent or cents)
DISCOUNT_CODES = (
    ("WELCOME10", "percentage", 10),
    ("SAVE15", "percentage", 15),
    ("FLASH20", "percentage", 20),
    ("TAKE10", "fixed_amount", 1_000),
    ("BUNDLE5", "fixed_amount", 500),
)


@dataclass(frozen=True)
class Orders:
    """Orders with true times in ``[window.start, window.holdout_end)``, sorted by time."""

    person: np.ndarray  # chunk-local person index
    seq: np.ndarray  # k-th purchase of the person (counting purchases before the window)
    at: np.ndarray  # ms, true time
    order_id: np.ndarray  # int64
    guest: np.ndarray  # guest checkout (no customer record)
    web_twin: np.ndarray  # has an "Order Completed" on a device
    subtotal_cents: np.ndarray
    discount_cents: np.ndarray
    tax_cents: np.ndarray
    total_cents: np.ndarray
    discount_code: np.ndarray  # index into DISCOUNT_CODES or -1
    item_start: np.ndarray  # first line item row of each order (+ sentinel at the end)
    item_product: np.ndarray
    item_quantity: np.ndarray
    item_price_cents: np.ndarray

    @property
    def size(self) -> int:
        return self.at.size

    def items_of(self, order: int) -> range:
        return range(int(self.item_start[order]), int(self.item_start[order + 1]))


@dataclass(frozen=True)
class PurchaseHistory:
    orders: Orders
    first_order_at: np.ndarray  # per person, ms or -1 (may lie before the window)
    churned_at: np.ndarray  # per person: time of the purchase after which they dropped, or -1


def simulate_purchase_times(
    rng: np.random.Generator, pop: Population, window: Window
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(person, seq, at) of every purchase before ``holdout_end``, first purchase, dropout."""
    n = pop.size
    customers = np.flatnonzero(pop.customer)
    first_order_at = np.full(n, -1, dtype=np.int64)
    dropped_at = np.full(n, -1, dtype=np.int64)
    t = pop.acquired[customers] + (rng.exponential(FIRST_PURCHASE_DAYS, customers.size) * DAY_MS).astype(np.int64)
    first_order_at[customers] = np.where(t < window.holdout_end, t, -1)
    mean_gap_ms = DAY_MS / pop.purchase_rate[customers]
    live = np.arange(customers.size)
    persons, seqs, times = [], [], []
    for k in range(MAX_ORDERS):
        live = live[t[live] < window.holdout_end]
        if live.size == 0:
            break
        persons.append(customers[live])
        seqs.append(np.full(live.size, k, dtype=np.int64))
        times.append(t[live].copy())
        drop = rng.random(live.size) < pop.dropout_prob[customers[live]]
        dropped_at[customers[live[drop]]] = t[live[drop]]
        live = live[~drop]
        t[live] += (rng.exponential(1.0, live.size) * mean_gap_ms[live]).astype(np.int64)
    if not persons:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, first_order_at, dropped_at
    return (
        np.concatenate(persons),
        np.concatenate(seqs),
        np.concatenate(times),
        first_order_at,
        dropped_at,
    )


def _choose_products(
    rng: np.random.Generator,
    persons: np.ndarray,
    target_cents: np.ndarray,
    pop: Population,
    catalog: Catalog,
) -> np.ndarray:
    category = pick_interest_category(rng, persons, pop, loyalty=0.8)
    product = np.empty(persons.size, dtype=np.int64)
    for c in range(len(catalog.by_category_price)):
        rows = np.flatnonzero(category == c)
        if rows.size == 0:
            continue
        ranked = catalog.by_category_price[c]
        prices = catalog.product_price_cents[ranked]
        pos = np.searchsorted(prices, target_cents[rows]) + rng.integers(-4, 5, rows.size)
        product[rows] = ranked[np.clip(pos, 0, ranked.size - 1)]
        for flag, pool in (
            (pop.premium, catalog.premium_by_category[c]),
            (pop.discount, catalog.sale_by_category[c]),
        ):
            swap = rows[flag[persons[rows]] & (rng.random(rows.size) < 0.35)]
            if pool.size and swap.size:
                product[swap] = pool[rng.integers(0, pool.size, swap.size)]
    return product


def simulate_purchases(rng: np.random.Generator, pop: Population, window: Window, catalog: Catalog) -> PurchaseHistory:
    person, seq, at, first_order_at, dropped_at = simulate_purchase_times(rng, pop, window)
    keep = at >= window.start
    order = np.lexsort((seq[keep], person[keep], at[keep]))
    person, seq, at = person[keep][order], seq[keep][order], at[keep][order]
    m = at.size

    n_items = rng.choice(4, m, p=[0.5, 0.3, 0.13, 0.07]) + 1
    item_start = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(n_items, out=item_start[1:])
    item_order = np.repeat(np.arange(m), n_items)
    item_person = person[item_order]
    value = rng.gamma(6.0, pop.spend_mean[person] / 6.0)  # dollars, Gamma-Gamma
    target = (value[item_order] / n_items[item_order] * 100.0 * rng.lognormal(0.0, 0.3, item_order.size)).astype(
        np.int64
    )
    product = _choose_products(rng, item_person, target, pop, catalog)
    quantity = rng.choice(3, item_order.size, p=[0.85, 0.12, 0.03]) + 1
    price = catalog.product_price_cents[product]
    subtotal = np.bincount(item_order, weights=price * quantity, minlength=m).astype(np.int64)

    uses_code = rng.random(m) < (0.04 + 0.5 * pop.price_sensitivity[person] + 0.15 * pop.discount[person])
    code = np.where(uses_code, rng.integers(0, len(DISCOUNT_CODES), m), -1)
    pct = np.array([v if t == "percentage" else 0 for _, t, v in DISCOUNT_CODES])
    fixed = np.array([v if t == "fixed_amount" else 0 for _, t, v in DISCOUNT_CODES])
    discount = np.where(code >= 0, subtotal * pct[code] // 100 + fixed[code], 0)
    discount = np.minimum(discount, subtotal // 2)
    tax_bp = np.asarray(CITY_TAX_BP, dtype=np.int64)[pop.city[person]]
    tax = ((subtotal - discount) * tax_bp + 5_000) // 10_000
    total = subtotal - discount + tax

    orders = Orders(
        person=person,
        seq=seq,
        at=at,
        order_id=ORDER_ID_BASE + pop.index[person] * 1_000 + seq,
        guest=rng.random(m) < GUEST_SHARE,
        web_twin=rng.random(m) < WEB_TWIN_SHARE,
        subtotal_cents=subtotal,
        discount_cents=discount,
        tax_cents=tax,
        total_cents=total,
        discount_code=code,
        item_start=item_start,
        item_product=product,
        item_quantity=quantity,
        item_price_cents=price,
    )
    churned_at = np.where((dropped_at >= 0) & (dropped_at < window.end), dropped_at, -1)
    return PurchaseHistory(orders=orders, first_order_at=first_order_at, churned_at=churned_at)


def take(orders: Orders, rows: np.ndarray) -> Orders:
    """The orders at ``rows`` (any order, repeats allowed), with their line items."""
    rows = np.asarray(rows, dtype=np.int64)
    counts = np.diff(orders.item_start)[rows]
    starts = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    items = np.repeat(orders.item_start[rows] - starts[:-1], counts) + np.arange(int(starts[-1]), dtype=np.int64)
    return Orders(
        person=orders.person[rows],
        seq=orders.seq[rows],
        at=orders.at[rows],
        order_id=orders.order_id[rows],
        guest=orders.guest[rows],
        web_twin=orders.web_twin[rows],
        subtotal_cents=orders.subtotal_cents[rows],
        discount_cents=orders.discount_cents[rows],
        tax_cents=orders.tax_cents[rows],
        total_cents=orders.total_cents[rows],
        discount_code=orders.discount_code[rows],
        item_start=starts,
        item_product=orders.item_product[items],
        item_quantity=orders.item_quantity[items],
        item_price_cents=orders.item_price_cents[items],
    )


def select(orders: Orders, mask: np.ndarray) -> Orders:
    """The orders where ``mask`` holds (keeping their time order)."""
    return take(orders, np.flatnonzero(mask))

"""Store orders: Shopify REST Admin API order JSON, and the older orders as a CSV export.

Orders placed since the store moved to Shopify are written as order JSON, one per line, with
times in the shop's time zone (America/New_York) and money as decimal strings. Older orders
(the first months of the window) come from the previous platform's export, with the gaps such
exports have: rows without an order id, without a customer id or without an email.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import orjson

from audience_dagster.sample_data.catalog import CATEGORIES, Catalog
from audience_dagster.sample_data.encode import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    civil_from_days,
    days_from_civil,
    iso_dates,
    iso_offset,
    money,
)
from audience_dagster.sample_data.names import (
    CITIES,
    JUNK_EMAILS,
    pick_email_variant,
    pick_phone_variant,
)
from audience_dagster.sample_data.population import Population
from audience_dagster.sample_data.purchases import (
    CUSTOMER_ID_BASE,
    DISCOUNT_CODES,
    LINE_ITEM_ID_BASE,
    Orders,
)
from audience_dagster.sample_data.sessions import Identification

CSV_HEADER = "order_id,customer_id,email,order_date,amount,currency"
JUNK_GUEST_EMAIL_SHARE = 0.05
_LANDING = (
    "/",
    "/c/{c}",
    "/p/{p}",
    "/p/{p}?utm_source=google&utm_medium=cpc",
    "/collections/sale",
    "/p/{p}?utm_source=sendgrid&utm_medium=email",
)
_REFERRING = (
    "",
    "https://www.google.com/",
    "https://www.google.com/",
    "https://l.facebook.com/",
    "https://www.instagram.com/",
    "",
)


def new_york_offset_minutes(ms: np.ndarray) -> np.ndarray:
    """UTC offset of America/New_York (US rules since 2007): -240 in summer time, else -300."""
    ms = np.asarray(ms, dtype=np.int64)
    if ms.size == 0:
        return np.zeros(0, dtype=np.int64)
    years = range(
        int(civil_from_days(np.array([ms.min() // DAY_MS]))[0][0]),
        int(civil_from_days(np.array([ms.max() // DAY_MS]))[0][0]) + 1,
    )
    bounds = []
    for y in years:
        mar1, nov1 = days_from_civil(y, 3, 1), days_from_civil(y, 11, 1)
        second_sunday = mar1 + (7 - (mar1 + 4) % 7) % 7 + 7
        first_sunday = nov1 + (7 - (nov1 + 4) % 7) % 7
        bounds += [second_sunday * DAY_MS + 7 * HOUR_MS, first_sunday * DAY_MS + 6 * HOUR_MS]
    summer = np.searchsorted(np.asarray(bounds), ms, side="right") % 2 == 1
    return np.where(summer, -240, -300)


@dataclass(frozen=True)
class StoreLines:
    lines: list[str]  # JSON lines (Shopify) or CSV rows without the header (historical)
    customer_persons: np.ndarray  # persons whose Shopify customer id appeared
    email_persons: np.ndarray
    phone_persons: np.ndarray
    order_rows: np.ndarray  # rows of the given orders whose order id appeared
    junk: set[tuple[str, str]]


def _local_iso(ms: np.ndarray) -> list[str]:
    return iso_offset(ms, new_york_offset_minutes(ms))


def _line_items(orders: Orders, catalog: Catalog, prices: list[str], i: int, first: int, stop: int) -> list[dict]:
    """The line items of order ``i`` (rows ``first``..``stop`` of the orders' items)."""
    items = []
    for j in range(first, stop):
        prod = int(orders.item_product[j])
        items.append(
            {
                "id": LINE_ITEM_ID_BASE + int(orders.order_id[i]) % 10**12 * 4 + j - first,
                "product_id": int(catalog.product_id[prod]),
                "variant_id": int(catalog.variant_id[prod]),
                "sku": catalog.product_sku[prod],
                "title": catalog.product_title[prod],
                "quantity": int(orders.item_quantity[j]),
                "price": prices[j],
                "product_type": CATEGORIES[catalog.product_category[prod]],
                "vendor": catalog.product_vendor[prod],
            }
        )
    return items


def _order_amounts(orders: Orders) -> dict[str, list[str]]:
    """The order-level amounts as Shopify writes them (decimal strings)."""
    return {
        "subtotal_price": money(orders.subtotal_cents),
        "total_discounts": money(orders.discount_cents),
        "total_tax": money(orders.tax_cents),
        "total_price": money(orders.total_cents),
    }


def _discount_codes(code: int, amount: str) -> list[dict]:
    if code < 0:
        return []
    return [{"code": DISCOUNT_CODES[code][0], "amount": amount, "type": DISCOUNT_CODES[code][1]}]


def _customer_fields(pop: Population, p: int, phone: str | None, created_at: str) -> dict[str, object]:
    return {
        "first_name": pop.ids.first_name[p],
        "last_name": pop.ids.last_name[p],
        "phone": phone,
        "created_at": created_at,
    }


def shopify_order_lines(
    rng: np.random.Generator,
    orders: Orders,
    pop: Population,
    ident: Identification,
    first_order_at: np.ndarray,
    catalog: Catalog,
    chunk: int,
    chunks: int,
) -> StoreLines:
    m = orders.size
    person = orders.person
    number = 1001 + np.arange(m) * chunks + chunk  # unique across chunks, rising with time
    created = _local_iso(orders.at)
    updated = _local_iso(orders.at + (rng.exponential(20.0, m) * HOUR_MS).astype(np.int64))
    customer_created = _local_iso(np.where(first_order_at[person] >= 0, first_order_at[person], orders.at))
    email = pick_email_variant(rng, person, pop.ids)
    junk_email = orders.guest & (rng.random(m) < JUNK_GUEST_EMAIL_SHARE)
    email[junk_email] = JUNK_EMAILS[2]
    customer_email = pick_email_variant(rng, person, pop.ids)
    phone = np.where(
        pop.has_phone[person] & (rng.random(m) < 0.8),
        pick_phone_variant(rng, person, pop.ids),
        None,
    )
    landing = rng.integers(0, len(_LANDING), m)
    items_total = np.diff(orders.item_start)
    prices = money(orders.item_price_cents)
    fields = _order_amounts(orders)
    lines = []
    for i in range(m):
        p = int(person[i])
        first_item = int(orders.item_start[i])
        items = _line_items(orders, catalog, prices, i, first_item, first_item + int(items_total[i]))
        code = int(orders.discount_code[i])
        product_slug = catalog.product_slug[int(orders.item_product[first_item])]
        category = CATEGORIES[catalog.product_category[int(orders.item_product[first_item])]]
        city, state, country = CITIES[pop.city[p]][:3]
        order = {
            "id": int(orders.order_id[i]),
            "name": f"#{number[i]}",
            "order_number": int(number[i]),
            "email": email[i],
            "created_at": created[i],
            "processed_at": created[i],
            "updated_at": updated[i],
            "currency": "USD",
            "subtotal_price": fields["subtotal_price"][i],
            "total_discounts": fields["total_discounts"][i],
            "total_tax": fields["total_tax"][i],
            "total_price": fields["total_price"][i],
            "financial_status": "paid",
            "source_name": "web",
            "landing_site": _LANDING[landing[i]].format(c=category, p=product_slug),
            "referring_site": _REFERRING[landing[i]],
            "discount_codes": _discount_codes(code, fields["total_discounts"][i]),
            "line_items": items,
        }
        if not orders.guest[i]:
            order["customer"] = {
                "id": CUSTOMER_ID_BASE + int(pop.index[p]),
                "email": customer_email[i],
                **_customer_fields(pop, p, phone[i], customer_created[i]),
                "accepts_marketing": bool(ident.subscribed_at[p] <= orders.at[i]),
                "default_address": {"city": city, "province": state, "country_code": country},
            }
        lines.append(orjson.dumps(order).decode())
    member = ~orders.guest
    return StoreLines(
        lines=lines,
        customer_persons=np.unique(person[member]),
        email_persons=np.unique(np.concatenate([person[~junk_email], person[member]])),
        phone_persons=np.unique(person[member & (phone != None)]),  # noqa: E711
        order_rows=np.arange(m),
        junk={("email", JUNK_EMAILS[2])} if junk_email.any() else set(),
    )


def historical_order_rows(rng: np.random.Generator, orders: Orders, pop: Population) -> StoreLines:
    """CSV rows (no header) for orders from before the move to Shopify."""
    m = orders.size
    person = orders.person
    no_order_id = rng.random(m) < 0.2
    no_customer = orders.guest | (rng.random(m) < 0.2)
    no_email = ~no_customer & (rng.random(m) < 0.1)
    email = np.where(no_email, "", pick_email_variant(rng, person, pop.ids))
    customer = np.where(no_customer, "", (CUSTOMER_ID_BASE + pop.index[person]).astype(str))
    order_id = np.where(no_order_id, "", orders.order_id.astype(str))
    local = orders.at + new_york_offset_minutes(orders.at) * MINUTE_MS
    lines = [
        f"{o},{c},{e},{d},{a},USD"
        for o, c, e, d, a in zip(
            order_id.tolist(),
            customer.tolist(),
            email.tolist(),
            iso_dates(local),
            money(orders.total_cents),
            strict=True,
        )
    ]
    return StoreLines(
        lines=lines,
        customer_persons=np.unique(person[~no_customer]),
        email_persons=np.unique(person[~no_email]),
        phone_persons=np.zeros(0, dtype=np.int64),
        order_rows=np.flatnonzero(~no_order_id),
        junk=set(),
    )

"""Pages viewed inside sessions.

Browsing sessions view a few pages chosen by the person's interests (categories, the premium
or sale collection, products, articles, the cart); checkout sessions walk the order's product
pages → cart → checkout. Each page view gets its Segment ``context.page`` JSON (path,
referrer, search, title, url); the landing page of a campaign visit carries the UTM query.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audience_dagster.sample_data import catalog as site
from audience_dagster.sample_data.catalog import Catalog
from audience_dagster.sample_data.encode import SECOND_MS
from audience_dagster.sample_data.population import Population, pick_interest_category
from audience_dagster.sample_data.purchases import Orders
from audience_dagster.sample_data.sessions import CHECKOUT_STEP_MS, Sessions

_BROWSE_KINDS = (
    site.HOME,
    site.CATEGORY,
    site.PREMIUM,
    site.SALE,
    site.PRODUCT,
    site.BLOG,
    site.CART,
)
_BROWSE_WEIGHTS = np.array([14.0, 16.0, 0.5, 1.0, 42.0, 12.0, 5.0])
_PREMIUM_BOOST = np.array([0, 0, 7.0, 0, 0, 0, 0])
_DISCOUNT_BOOST = np.array([0, 0, 0, 9.0, 0, 0, 0])
SESSION_MAX_MS = 29 * 60 * SECOND_MS


@dataclass(frozen=True)
class PageViews:
    session: np.ndarray
    at: np.ndarray
    target: np.ndarray  # catalog page row
    campaign: np.ndarray  # UTM campaign of a landing page view, else -1
    context_json: np.ndarray  # object: {"path","referrer","search","title","url"}


def _browse_targets(rng: np.random.Generator, persons: np.ndarray, pop: Population, catalog: Catalog) -> np.ndarray:
    m = persons.size
    combo = pop.premium[persons].astype(np.int64) * 2 + pop.discount[persons]
    table = np.stack([_BROWSE_WEIGHTS + p * _PREMIUM_BOOST + d * _DISCOUNT_BOOST for p in (0, 1) for d in (0, 1)])
    cdf = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    kind = np.asarray(_BROWSE_KINDS)[
        np.minimum((rng.random(m)[:, None] > cdf[combo]).sum(axis=1), len(_BROWSE_KINDS) - 1)
    ]
    category = pick_interest_category(rng, persons, pop)
    target = np.zeros(m, dtype=np.int64)
    target[kind == site.CATEGORY] = catalog.first_category_page + category[kind == site.CATEGORY]
    for k in (site.PREMIUM, site.SALE, site.CART):
        target[kind == k] = site.page_of_kind(catalog, k)
    u = rng.random(m)
    for c in range(len(site.CATEGORIES)):
        rows = np.flatnonzero((kind == site.PRODUCT) & (category == c))
        popular = catalog.by_category_popularity[c]
        product = popular[(u[rows] ** 2.5 * popular.size).astype(np.int64)]
        for flag, pool in (
            (pop.premium, catalog.premium_by_category[c]),
            (pop.discount, catalog.sale_by_category[c]),
        ):
            swap = flag[persons[rows]] & (rng.random(rows.size) < 0.35)
            if pool.size:
                product[swap] = pool[rng.integers(0, pool.size, int(swap.sum()))]
        target[rows] = catalog.first_product_page + product
        rows = np.flatnonzero((kind == site.BLOG) & (category == c))
        articles = catalog.articles_by_category[c]
        target[rows] = catalog.first_article_page + articles[rng.integers(0, articles.size, rows.size)]
    return target


def simulate_page_views(
    rng: np.random.Generator,
    sessions: Sessions,
    pop: Population,
    catalog: Catalog,
    web_orders: Orders,
) -> PageViews:
    browse = np.flatnonzero(sessions.order < 0)
    count = 1 + rng.poisson(1.4 + 0.35 * np.log1p(pop.engagement[sessions.person[browse]]))
    b_session = np.repeat(browse, count)
    b_rank = np.arange(b_session.size) - np.repeat(np.cumsum(count) - count, count)
    gaps = rng.exponential(55.0 * SECOND_MS, b_session.size)
    gaps[b_rank == 0] = SECOND_MS
    cum = np.cumsum(gaps)
    offset = cum - np.repeat(cum[np.cumsum(count) - count] - SECOND_MS, count)
    b_at = sessions.start[b_session] + np.minimum(offset, SESSION_MAX_MS).astype(np.int64)
    b_target = _browse_targets(rng, sessions.person[b_session], pop, catalog)

    buy = np.flatnonzero(sessions.order >= 0)
    order = sessions.order[buy]
    items = np.diff(web_orders.item_start)[order]
    steps = items + 2  # product pages, cart, checkout
    c_session = np.repeat(buy, steps)
    c_rank = np.arange(c_session.size) - np.repeat(np.cumsum(steps) - steps, steps)
    c_items = np.repeat(items, steps)
    item_row = np.repeat(web_orders.item_start[order], steps) + np.minimum(c_rank, c_items - 1)
    c_target = np.where(
        c_rank < c_items,
        catalog.first_product_page + web_orders.item_product[np.minimum(item_row, web_orders.item_product.size - 1)],
        np.where(
            c_rank == c_items,
            site.page_of_kind(catalog, site.CART),
            site.page_of_kind(catalog, site.CHECKOUT),
        ),
    )
    c_at = sessions.start[c_session] + c_rank * CHECKOUT_STEP_MS + SECOND_MS
    c_at = np.minimum(c_at, web_orders.at[sessions.order[c_session]] - 5 * SECOND_MS)

    session = np.concatenate([b_session, c_session])
    at = np.concatenate([b_at, c_at])
    target = np.concatenate([b_target, c_target])
    ordering = np.lexsort((at, session))
    session, at, target = session[ordering], at[ordering], target[ordering]
    landing = np.r_[True, session[1:] != session[:-1]] if session.size else session.astype(bool)

    campaign = np.where(landing, sessions.campaign[session], -1)
    search = np.asarray(("", *catalog.utm_search), dtype=object)[campaign + 1]
    path = catalog.page_path[target]
    url = [f"{site.SITE}{p}{s}" for p, s in zip(path.tolist(), search.tolist(), strict=True)]
    previous_url = np.asarray([""] + url[:-1], dtype=object)
    referrer = np.where(landing, sessions.referrer[session], previous_url)
    context_json = [
        f'{{"path":"{p}","referrer":"{r}","search":"{s}","title":{t},"url":"{u}"}}'
        for p, r, s, t, u in zip(
            path.tolist(),
            referrer.tolist(),
            search.tolist(),
            catalog.page_title_json[target].tolist(),
            url,
            strict=True,
        )
    ]
    return PageViews(
        session=session,
        at=at,
        target=target,
        campaign=campaign,
        context_json=np.asarray(context_json, dtype=object),
    )

"""The Segment calls of a chunk, as a columnar plan (serialised by :mod:`segment`).

Page views become ``page`` calls (``screen`` in the apps) and trigger the e-commerce and
content ``track`` events of Segment's spec; sessions add the planned ``identify`` calls,
sign-up ``alias`` / "Signed Up" / "Email Subscribed", consent updates, and checkout sessions
end in "Order Completed" at the Shopify order's time. Calls after the window's end are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audience_dagster.sample_data import catalog as site
from audience_dagster.sample_data.catalog import Catalog
from audience_dagster.sample_data.devices import Devices
from audience_dagster.sample_data.encode import SECOND_MS, hex_ids, iso_ms
from audience_dagster.sample_data.names import CITIES, JUNK_EMAILS, pick_email_variant, pick_phone_variant
from audience_dagster.sample_data.params import Window
from audience_dagster.sample_data.population import Population
from audience_dagster.sample_data.purchases import DISCOUNT_CODES, Orders, take
from audience_dagster.sample_data.sessions import Identification, Sessions
from audience_dagster.sample_data.site_activity import PageViews

PAGE, SCREEN, TRACK, IDENTIFY, ALIAS = range(5)
MESSAGE_TYPES = ("page", "screen", "track", "identify", "alias")
JUNK_TRAIT_EMAIL_SHARE = 0.02
CHECKOUT_IDENTIFY_SHARE = 0.5
ALIAS_SHARE = 0.3
DO_NOT_TRACK_SHARE = 0.15  # of consent updates: every category refused
_CONSENT = '"consent":{{"categoryPreferences":{{"Advertising":{},"Analytics":{},"Functional":{},"DataSharing":{}}}}}'
_SIGN_UP_METHODS = np.asarray(('{"method":"email"}', '{"method":"google"}', '{"method":"apple"}'), dtype=object)


@dataclass(frozen=True)
class MessagePlan:
    session: np.ndarray
    at: np.ndarray  # true time, ms
    kind: np.ndarray  # PAGE … ALIAS
    page_view: np.ndarray  # the web page the call happened on (context.page), -1 for none
    body: np.ndarray  # object: type-specific members, e.g. '"event":"…","properties":{…}'
    context_extra: np.ndarray  # object: extra context members ('' or '"consent":{…}')
    email_shown: np.ndarray  # persons whose real email appeared in traits
    phone_shown: np.ndarray  # persons whose phone appeared in traits
    junk: set[tuple[str, str]]  # junk emails written in traits

    @property
    def size(self) -> int:
        return self.at.size


@dataclass(frozen=True)
class _Chunk:
    """Everything the call builders read, plus per-page-view lookups computed once."""

    sessions: Sessions
    views: PageViews
    pop: Population
    devices: Devices
    catalog: Catalog
    web_orders: Orders
    ident: Identification
    window: Window
    context_view: np.ndarray  # per view: itself for web pages, -1 in apps (no context.page)
    kind: np.ndarray  # per view: catalog page kind
    ref: np.ndarray  # per view: product / article / category behind the page
    first_view: np.ndarray  # per session: its landing page view

    @property
    def landing_view(self) -> np.ndarray:
        """Per session: context page of its landing page (-1 in apps)."""
        return self.context_view[self.first_view]


class _Blocks:
    """Collects blocks of calls (columns of equal length) and concatenates them once."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(
        self,
        session: np.ndarray,
        at: np.ndarray,
        kind: int,
        page_view: np.ndarray,
        body: list[str] | np.ndarray,
        extra: list[str] | None = None,
    ) -> None:
        m = session.size
        if m == 0:
            return
        extras = np.full(m, "", dtype=object) if extra is None else np.asarray(extra, dtype=object)
        body_col = np.asarray(body, dtype=object).reshape(m)
        kind_col = np.full(m, kind, dtype=np.int8)
        self.parts.append((session, np.asarray(at, dtype=np.int64), kind_col, page_view, body_col, extras))

    def columns(self) -> list[np.ndarray]:
        return [np.concatenate([p[i] for p in self.parts]) for i in range(6)]


def _track(event: str, props: np.ndarray | list[str]) -> list[str]:
    return [f'"event":"{event}","properties":{p}' for p in props]


def _after(rng: np.random.Generator, at: np.ndarray, low_s: float, high_s: float) -> np.ndarray:
    """``at`` plus a uniform delay of ``low_s``–``high_s`` seconds."""
    return at + (rng.uniform(low_s, high_s, at.size) * SECOND_MS).astype(np.int64)


def order_completed_properties(orders: Orders, catalog: Catalog) -> list[str]:
    """Segment "Order Completed" properties (e-commerce spec) for each order."""
    lines = [
        f'{catalog.product_json[p]},"quantity":{q}}}'
        for p, q in zip(orders.item_product.tolist(), orders.item_quantity.tolist(), strict=True)
    ]
    starts = orders.item_start.tolist()
    out = []
    for i, (oid, total, sub, disc, code) in enumerate(
        zip(
            orders.order_id.tolist(),
            orders.total_cents.tolist(),
            orders.subtotal_cents.tolist(),
            orders.discount_cents.tolist(),
            orders.discount_code.tolist(),
            strict=True,
        )
    ):
        coupon = f'"{DISCOUNT_CODES[code][0]}"' if code >= 0 else "null"
        revenue = sub - disc
        out.append(
            f'{{"order_id":"{oid}","total":{total / 100:.2f},"revenue":{revenue / 100:.2f},'
            f'"currency":"USD","discount":{disc / 100:.2f},"coupon":{coupon},'
            f'"products":[{",".join(lines[starts[i] : starts[i + 1]])}]}}'
        )
    return out


def _page_calls(c: _Chunk, blocks: _Blocks) -> None:
    views, catalog = c.views, c.catalog
    web = np.flatnonzero(c.context_view >= 0)
    names = catalog.page_name[views.target[web]].tolist()
    body = [f'"name":"{n}","properties":{j}' for n, j in zip(names, views.context_json[web].tolist(), strict=True)]
    blocks.add(views.session[web], views.at[web], PAGE, web, body)
    app = np.flatnonzero(c.context_view < 0)
    props = catalog.screen_props[views.target[app]].tolist()
    body = [
        f'"name":"{site.SCREEN_NAMES[k]}","properties":{p}' for k, p in zip(c.kind[app].tolist(), props, strict=True)
    ]
    blocks.add(views.session[app], views.at[app], SCREEN, np.full(app.size, -1), body)


def _browsing_events(rng: np.random.Generator, c: _Chunk, blocks: _Blocks) -> None:
    views, catalog, kind, ref = c.views, c.catalog, c.kind, c.ref

    def add(rows: np.ndarray, low_s: float, high_s: float, event: str, props: np.ndarray | list[str]) -> None:
        at = _after(rng, views.at[rows], low_s, high_s)
        blocks.add(views.session[rows], at, TRACK, c.context_view[rows], _track(event, props))

    browsing = c.sessions.order[views.session] < 0
    rows = np.flatnonzero((kind == site.PRODUCT) & browsing)
    add(rows, 1, 4, "Product Viewed", catalog.product_json[ref[rows]] + "}")
    rows = rows[rng.random(rows.size) < 0.1]
    add(rows, 15, 90, "Product Added", catalog.product_json[ref[rows]] + ',"quantity":1}')
    rows = np.flatnonzero((kind == site.CATEGORY) & (rng.random(kind.size) < 0.15))
    pick = rng.integers(0, 3, rows.size).tolist()
    queries = [f'{{"query":{catalog.search_query_json[k][q]}}}' for k, q in zip(ref[rows].tolist(), pick, strict=True)]
    add(rows, 2, 8, "Products Searched", queries)
    for event, share, low, high in (
        ("Article Read", 0.6, 30, 300),
        ("Video Watched", 0.12, 20, 240),
        ("File Downloaded", 0.04, 10, 120),
    ):
        rows = np.flatnonzero((kind == site.BLOG) & (rng.random(kind.size) < share))
        if event == "Article Read":
            props = catalog.article_json[ref[rows]]
        elif event == "Video Watched":
            props = catalog.video_json[ref[rows]]
        else:
            props = catalog.download_json[catalog.article_category[ref[rows]]]
        add(rows, low, high, event, props)
    rows = np.flatnonzero(kind == site.CART)
    cart_ids = np.asarray(hex_ids(rng, c.sessions.size, 24), dtype=object)
    add(rows, 1, 3, "Cart Viewed", [f'{{"cart_id":"{i}"}}' for i in cart_ids[views.session[rows]].tolist()])


def _checkout_events(rng: np.random.Generator, c: _Chunk, blocks: _Blocks) -> np.ndarray:
    """Products added, checkout started, order completed; returns checkout views that identify."""
    views, catalog, orders = c.views, c.catalog, c.web_orders
    rows = np.flatnonzero((c.kind == site.PRODUCT) & (c.sessions.order[views.session] >= 0))
    order = c.sessions.order[views.session[rows]]
    item = orders.item_start[order] + (rows - c.first_view[views.session[rows]])
    product = catalog.product_json[c.ref[rows]]
    blocks.add(
        views.session[rows],
        _after(rng, views.at[rows], 1, 4),
        TRACK,
        c.context_view[rows],
        _track("Product Viewed", product + "}"),
    )
    added = [
        f'{p},"quantity":{q}}}' for p, q in zip(product.tolist(), orders.item_quantity[item].tolist(), strict=True)
    ]
    blocks.add(
        views.session[rows],
        _after(rng, views.at[rows], 10, 40),
        TRACK,
        c.context_view[rows],
        _track("Product Added", added),
    )

    rows = np.flatnonzero(c.kind == site.CHECKOUT)
    order = c.sessions.order[views.session[rows]]
    value = [f'{{"currency":"USD","value":{t / 100:.2f}}}' for t in orders.total_cents[order].tolist()]
    blocks.add(
        views.session[rows],
        _after(rng, views.at[rows], 1, 3),
        TRACK,
        c.context_view[rows],
        _track("Checkout Started", value),
    )
    identifying = rows[rng.random(rows.size) < CHECKOUT_IDENTIFY_SHARE]
    # "Order Completed" carries the Shopify order id: only for orders placed on Shopify
    rows = rows[orders.at[order] >= c.window.shopify_from]
    order = c.sessions.order[views.session[rows]]
    completed = order_completed_properties(take(orders, order), catalog)
    blocks.add(views.session[rows], orders.at[order], TRACK, c.context_view[rows], _track("Order Completed", completed))
    return identifying


def _identify_calls(
    rng: np.random.Generator, c: _Chunk, blocks: _Blocks, checkout_views: np.ndarray
) -> tuple[np.ndarray, np.ndarray, set[tuple[str, str]]]:
    """Sign-ups (full traits), log-ins and checkouts (email, sometimes names and phone).

    Returns the persons whose real email and phone were shown, and the junk emails written.
    """
    sessions, views, pop = c.sessions, c.views, c.pop
    opening = np.flatnonzero(sessions.identify)
    session = np.concatenate([opening, views.session[checkout_views]])
    at = np.concatenate([sessions.start[opening], _after(rng, views.at[checkout_views], 15, 40)])
    page_view = np.concatenate([c.landing_view[opening], c.context_view[checkout_views]])
    at_checkout = np.r_[np.zeros(opening.size, bool), np.ones(checkout_views.size, bool)]
    kept = at < c.window.end
    session, at, page_view, at_checkout = session[kept], at[kept], page_view[kept], at_checkout[kept]

    person = sessions.person[session]
    full = ~at_checkout & sessions.signup[session] & pop.has_user_id[person]
    named = full | at_checkout | (pop.has_user_id[person] & (rng.random(person.size) < 0.3))
    email = pick_email_variant(rng, person, pop.ids)
    # junk emails (test entries typed in forms) never replace the first identify on an anonymous id
    junk = ~(~at_checkout & sessions.login[session]) & (rng.random(person.size) < JUNK_TRAIT_EMAIL_SHARE)
    email[junk] = np.asarray(JUNK_EMAILS, dtype=object)[rng.integers(0, len(JUNK_EMAILS), int(junk.sum()))]
    with_phone = full & pop.has_phone[person] & (rng.random(person.size) < 0.7)
    phone = np.where(with_phone, pick_phone_variant(rng, person, pop.ids), "")
    created = iso_ms(c.ident.identified_at[person].clip(0, c.window.end))
    ids = pop.ids
    traits = []
    for p, e, f, nm, ph, cr in zip(
        person.tolist(), email.tolist(), full.tolist(), named.tolist(), phone.tolist(), created, strict=True
    ):
        t = f'"email":"{e}"'
        if nm:
            t += f',"firstName":"{ids.first_name[p]}","lastName":"{ids.last_name[p]}"'
        if ph:
            t += f',"phone":"{ph}"'
        if f:
            city, state, country = CITIES[pop.city[p]][:3]
            t += f',"address":{{"city":"{city}","state":"{state}","country":"{country}"}},"createdAt":"{cr}"'
        traits.append(f'"traits":{{{t}}}')
    blocks.add(session, at, IDENTIFY, page_view, traits)
    junk_ids = {("email", e) for e in email[junk].tolist()}
    return np.unique(person[~junk]), np.unique(person[with_phone]), junk_ids


def _signup_and_consent_calls(rng: np.random.Generator, c: _Chunk, blocks: _Blocks) -> None:
    sessions, pop = c.sessions, c.pop
    signups = np.flatnonzero(sessions.signup)
    person = sessions.person[signups]
    with_uid = signups[pop.has_user_id[person]]
    aliased = with_uid[rng.random(with_uid.size) < ALIAS_SHARE]
    previous = [f'"previousId":"{a}"' for a in c.devices.slot_anonymous_id[sessions.slot[aliased]].tolist()]
    blocks.add(aliased, sessions.start[aliased] + 300, ALIAS, c.landing_view[aliased], previous)
    method = _SIGN_UP_METHODS[rng.choice(3, with_uid.size, p=[0.6, 0.25, 0.15])]
    blocks.add(with_uid, sessions.start[with_uid] + 600, TRACK, c.landing_view[with_uid], _track("Signed Up", method))
    subscribing = signups[pop.will_subscribe[person] & (pop.subscribe_delay[person] == 0)]
    props = ['{"list_id":"newsletter","source":"signup_form"}'] * subscribing.size
    blocks.add(
        subscribing,
        sessions.start[subscribing] + 900,
        TRACK,
        c.landing_view[subscribing],
        _track("Email Subscribed", props),
    )
    consenting = np.flatnonzero(sessions.consent)
    grants = rng.random((consenting.size, 4)) < np.array([0.55, 0.8, 0.95, 0.4])
    grants[rng.random(consenting.size) < DO_NOT_TRACK_SHARE] = False
    consent = [_CONSENT.format(*("true" if g else "false" for g in row)) for row in grants.tolist()]
    blocks.add(
        consenting,
        sessions.start[consenting] + 2_000,
        TRACK,
        c.landing_view[consenting],
        _track("Segment Consent Preference Updated", ["{}"] * consenting.size),
        consent,
    )


def plan_messages(
    rng: np.random.Generator,
    sessions: Sessions,
    views: PageViews,
    pop: Population,
    devices: Devices,
    catalog: Catalog,
    web_orders: Orders,
    ident: Identification,
    window: Window,
) -> MessagePlan:
    app_view = devices.slot_is_app[sessions.slot[views.session]]
    c = _Chunk(
        sessions=sessions,
        views=views,
        pop=pop,
        devices=devices,
        catalog=catalog,
        web_orders=web_orders,
        ident=ident,
        window=window,
        context_view=np.where(app_view, -1, np.arange(views.session.size)),
        kind=catalog.page_kind[views.target],
        ref=catalog.page_ref[views.target],
        first_view=np.searchsorted(views.session, np.arange(sessions.size)),
    )
    blocks = _Blocks()
    _page_calls(c, blocks)
    _browsing_events(rng, c, blocks)
    checkout_views = _checkout_events(rng, c, blocks)
    email_shown, phone_shown, junk = _identify_calls(rng, c, blocks, checkout_views)
    _signup_and_consent_calls(rng, c, blocks)
    cols = blocks.columns()
    observed = cols[1] < window.end
    return MessagePlan(*(col[observed] for col in cols), email_shown=email_shown, phone_shown=phone_shown, junk=junk)

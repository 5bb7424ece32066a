"""The Segment calls of a chunk, as a columnar plan (serialised by :mod:`segment`).

Page views become ``page`` calls (``screen`` in the apps) and trigger the e-commerce and
content ``track`` events of Segment's spec; sessions add the planned ``identify`` calls,
sign-up ``alias`` / "Signed Up" / "Email Subscribed", consent updates, and checkout sessions
end in "Order Completed" at the Shopify order's time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audience_dagster.sample_data import catalog as site
from audience_dagster.sample_data.catalog import Catalog
from audience_dagster.sample_data.devices import Devices
from audience_dagster.sample_data.encode import SECOND_MS, hex_ids, iso_ms
from audience_dagster.sample_data.names import (
    CITIES,
    JUNK_EMAILS,
    pick_email_variant,
    pick_phone_variant,
)
from audience_dagster.sample_data.params import Window
from audience_dagster.sample_data.population import Population
from audience_dagster.sample_data.purchases import Orders, take
from audience_dagster.sample_data.sessions import Identification, Sessions
from audience_dagster.sample_data.site_activity import PageViews, order_completed_properties

PAGE, SCREEN, TRACK, IDENTIFY, ALIAS = range(5)
MESSAGE_TYPES = ("page", "screen", "track", "identify", "alias")
JUNK_TRAIT_EMAIL_SHARE = 0.02
CHECKOUT_IDENTIFY_SHARE = 0.5
ALIAS_SHARE = 0.3
_CONSENT = '"consent":{{"categoryPreferences":{{"Advertising":{},"Analytics":{},"Functional":{},"DataSharing":{}}}}}'


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


class _Blocks:
    """Collects message blocks and concatenates them once."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(
        self,
        session: np.ndarray,
        at: np.ndarray,
        kind: int,
        page_view: np.ndarray,
        body: list[str] | np.ndarray,
        extra: list[str] | np.ndarray | None = None,
    ) -> None:
        m = session.size
        if m == 0:
            return
        extras = np.full(m, "", dtype=object) if extra is None else np.asarray(extra, object)
        self.parts.append(
            (
                session,
                np.asarray(at, dtype=np.int64),
                np.full(m, kind, dtype=np.int8),
                page_view,
                np.asarray(body, dtype=object).reshape(m),
                extras.reshape(m),
            )
        )

    def columns(self) -> list[np.ndarray]:
        return [np.concatenate([p[i] for p in self.parts]) for i in range(6)]


def _track(event: str, props: np.ndarray | list[str]) -> list[str]:
    return [f'"event":"{event}","properties":{p}' for p in props]


def _ms(rng: np.random.Generator, low_s: float, high_s: float, m: int) -> np.ndarray:
    return (rng.uniform(low_s, high_s, m) * SECOND_MS).astype(np.int64)


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
    blocks = _Blocks()
    app_view = devices.slot_is_app[sessions.slot[views.session]]
    view_index = np.arange(views.session.size)
    context_view = np.where(app_view, -1, view_index)
    kind = catalog.page_kind[views.target]
    ref = catalog.page_ref[views.target]

    # page / screen calls
    web = np.flatnonzero(~app_view)
    blocks.add(
        views.session[web],
        views.at[web],
        PAGE,
        web,
        [
            f'"name":"{n}","properties":{j}'
            for n, j in zip(
                catalog.page_name[views.target[web]].tolist(),
                views.context_json[web].tolist(),
                strict=True,
            )
        ],
    )
    app = np.flatnonzero(app_view)
    blocks.add(
        views.session[app],
        views.at[app],
        SCREEN,
        np.full(app.size, -1),
        [
            f'"name":"{site.SCREEN_NAMES[k]}","properties":{p}'
            for k, p in zip(kind[app].tolist(), catalog.screen_props[views.target[app]].tolist(), strict=True)
        ],
    )

    # browsing events
    checkout = sessions.order[views.session] >= 0
    rows = np.flatnonzero((kind == site.PRODUCT) & ~checkout)
    blocks.add(
        views.session[rows],
        views.at[rows] + _ms(rng, 1, 4, rows.size),
        TRACK,
        context_view[rows],
        _track("Product Viewed", catalog.product_json[ref[rows]] + "}"),
    )
    rows = rows[rng.random(rows.size) < 0.1]
    blocks.add(
        views.session[rows],
        views.at[rows] + _ms(rng, 15, 90, rows.size),
        TRACK,
        context_view[rows],
        _track("Product Added", catalog.product_json[ref[rows]] + ',"quantity":1}'),
    )
    rows = np.flatnonzero((kind == site.CATEGORY) & (rng.random(kind.size) < 0.15))
    queries = catalog.search_query_json
    blocks.add(
        views.session[rows],
        views.at[rows] + _ms(rng, 2, 8, rows.size),
        TRACK,
        context_view[rows],
        _track(
            "Products Searched",
            [
                f'{{"query":{queries[c][q]}}}'
                for c, q in zip(ref[rows].tolist(), rng.integers(0, 3, rows.size).tolist(), strict=True)
            ],
        ),
    )
    for event, share, low, high, content in (
        ("Article Read", 0.6, 30, 300, catalog.article_json),
        ("Video Watched", 0.12, 20, 240, catalog.video_json),
        ("File Downloaded", 0.04, 10, 120, None),
    ):
        rows = np.flatnonzero((kind == site.BLOG) & (rng.random(kind.size) < share))
        props = (
            content[ref[rows]] if content is not None else catalog.download_json[catalog.article_category[ref[rows]]]
        )
        blocks.add(
            views.session[rows],
            views.at[rows] + _ms(rng, low, high, rows.size),
            TRACK,
            context_view[rows],
            _track(event, props),
        )
    rows = np.flatnonzero(kind == site.CART)
    cart_ids = np.asarray(hex_ids(rng, sessions.size, 24), dtype=object)
    blocks.add(
        views.session[rows],
        views.at[rows] + _ms(rng, 1, 3, rows.size),
        TRACK,
        context_view[rows],
        _track("Cart Viewed", [f'{{"cart_id":"{c}"}}' for c in cart_ids[views.session[rows]].tolist()]),
    )

    # checkout sessions: added products, checkout, identify, order completed
    rows = np.flatnonzero((kind == site.PRODUCT) & checkout)
    first_view = np.searchsorted(views.session, np.arange(sessions.size))
    order = sessions.order[views.session[rows]]
    item = web_orders.item_start[order] + (rows - first_view[views.session[rows]])
    blocks.add(
        views.session[rows],
        views.at[rows] + _ms(rng, 1, 4, rows.size),
        TRACK,
        context_view[rows],
        _track("Product Viewed", catalog.product_json[ref[rows]] + "}"),
    )
    blocks.add(
        views.session[rows],
        views.at[rows] + _ms(rng, 10, 40, rows.size),
        TRACK,
        context_view[rows],
        _track(
            "Product Added",
            [
                f'{p},"quantity":{q}}}'
                for p, q in zip(
                    catalog.product_json[ref[rows]].tolist(),
                    web_orders.item_quantity[item].tolist(),
                    strict=True,
                )
            ],
        ),
    )
    rows = np.flatnonzero(kind == site.CHECKOUT)
    order = sessions.order[views.session[rows]]
    blocks.add(
        views.session[rows],
        views.at[rows] + _ms(rng, 1, 3, rows.size),
        TRACK,
        context_view[rows],
        _track(
            "Checkout Started",
            [f'{{"currency":"USD","value":{t / 100:.2f}}}' for t in web_orders.total_cents[order].tolist()],
        ),
    )
    who = rng.random(rows.size) < CHECKOUT_IDENTIFY_SHARE
    checkout_identify = rows[who]
    completed = rows[web_orders.at[order] >= window.shopify_from]
    order = sessions.order[views.session[completed]]
    blocks.add(
        views.session[completed],
        web_orders.at[order],
        TRACK,
        context_view[completed],
        _track("Order Completed", order_completed_properties(take(web_orders, order), catalog)),
    )

    # identify calls: sign-up (full traits), log-ins and checkouts (email, sometimes names)
    landing_view = context_view[first_view]
    s_ident = np.flatnonzero(sessions.identify)
    c_sessions = views.session[checkout_identify]
    is_checkout = np.r_[np.zeros(s_ident.size, bool), np.ones(c_sessions.size, bool)]
    ident_sessions = np.concatenate([s_ident, c_sessions])
    ident_at = np.concatenate(
        [sessions.start[s_ident], views.at[checkout_identify] + _ms(rng, 15, 40, c_sessions.size)]
    )
    ident_view = np.concatenate([landing_view[s_ident], context_view[checkout_identify]])
    kept = ident_at < window.end
    ident_sessions, ident_at, ident_view, is_checkout = (
        ident_sessions[kept],
        ident_at[kept],
        ident_view[kept],
        is_checkout[kept],
    )
    persons = sessions.person[ident_sessions]
    full = ~is_checkout & sessions.signup[ident_sessions] & pop.has_user_id[persons]
    named = full | is_checkout | (pop.has_user_id[persons] & (rng.random(persons.size) < 0.3))
    email = pick_email_variant(rng, persons, pop.ids)
    # junk emails (test entries in forms) never replace the first identify on an anonymous id
    first_on_id = ~is_checkout & sessions.login[ident_sessions]
    junk = ~first_on_id & (rng.random(persons.size) < JUNK_TRAIT_EMAIL_SHARE)
    email[junk] = np.asarray(JUNK_EMAILS, dtype=object)[rng.integers(0, 3, int(junk.sum()))]
    junk_ids = {("email", e) for e in email[junk].tolist()}
    phone_shown = full & pop.has_phone[persons] & (rng.random(persons.size) < 0.7)
    phone = pick_phone_variant(rng, persons, pop.ids)
    created = iso_ms(ident.identified_at[persons].clip(0, window.end))
    traits = []
    ids = pop.ids
    for p, e, f, nm, ph, c in zip(
        persons.tolist(),
        email.tolist(),
        full.tolist(),
        named.tolist(),
        np.where(phone_shown, phone, "").tolist(),
        created,
        strict=True,
    ):
        t = f'"email":"{e}"'
        if nm:
            t += f',"firstName":"{ids.first_name[p]}","lastName":"{ids.last_name[p]}"'
        if ph:
            t += f',"phone":"{ph}"'
        if f:
            city, state, country = CITIES[pop.city[p]][:3]
            t += f',"address":{{"city":"{city}","state":"{state}","country":"{country}"}},"createdAt":"{c}"'
        traits.append(f'"traits":{{{t}}}')
    blocks.add(ident_sessions, ident_at, IDENTIFY, ident_view, traits)

    # sign-up extras: alias, "Signed Up", "Email Subscribed"; consent updates
    s_signup = np.flatnonzero(sessions.signup)
    su_person = sessions.person[s_signup]
    with_uid = s_signup[pop.has_user_id[su_person]]
    aliased = with_uid[rng.random(with_uid.size) < ALIAS_SHARE]
    blocks.add(
        aliased,
        sessions.start[aliased] + 300,
        ALIAS,
        landing_view[aliased],
        [f'"previousId":"{a}"' for a in devices.slot_anonymous_id[sessions.slot[aliased]].tolist()],
    )
    methods = np.asarray(('{"method":"email"}', '{"method":"google"}', '{"method":"apple"}'), dtype=object)
    blocks.add(
        with_uid,
        sessions.start[with_uid] + 600,
        TRACK,
        landing_view[with_uid],
        _track("Signed Up", methods[rng.choice(3, with_uid.size, p=[0.6, 0.25, 0.15])]),
    )
    subscribing = s_signup[pop.will_subscribe[su_person] & (pop.subscribe_delay[su_person] == 0)]
    blocks.add(
        subscribing,
        sessions.start[subscribing] + 900,
        TRACK,
        landing_view[subscribing],
        _track(
            "Email Subscribed",
            ['{"list_id":"newsletter","source":"signup_form"}'] * subscribing.size,
        ),
    )
    s_consent = np.flatnonzero(sessions.consent)
    grants = rng.random((s_consent.size, 4)) < np.array([0.55, 0.8, 0.95, 0.4])
    grants[rng.random(s_consent.size) < 0.15] = False  # do-not-track: everything refused
    blocks.add(
        s_consent,
        sessions.start[s_consent] + 2_000,
        TRACK,
        landing_view[s_consent],
        _track("Segment Consent Preference Updated", ["{}"] * s_consent.size),
        [_CONSENT.format(*("true" if g else "false" for g in row)) for row in grants.tolist()],
    )

    cols = blocks.columns()
    observed = cols[1] < window.end
    return MessagePlan(
        *(c[observed] for c in cols),
        email_shown=np.unique(persons[~junk]),
        phone_shown=np.unique(persons[phone_shown]),
        junk=junk_ids,
    )

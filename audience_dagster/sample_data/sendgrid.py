"""Email: weekly marketing campaigns and the SendGrid event-webhook events they produce.

Subscribers receive a share of the weekly campaigns from the day they subscribe: each send is
``processed``, then ``delivered`` (or a ``bounce`` of type "bounce" — hard, the address is
suppressed from then on — or "blocked"), may be opened (chance rising with engagement),
clicked (a share of opens rising with engagement, with the product ``url``) and rarely leads to an ``unsubscribe``
after which that person gets nothing more. Events carry the provider's ``contact_id`` (the
"email provider id") as a custom argument. The campaign seed list address receives every
campaign too (junk: it belongs to nobody).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from audience_dagster.sample_data.catalog import SITE, build_catalog
from audience_dagster.sample_data.devices import PROFILES, Devices
from audience_dagster.sample_data.encode import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    SECOND_MS,
    base64url_ids,
    hex_of,
    iso_dates,
)
from audience_dagster.sample_data.params import Window
from audience_dagster.sample_data.population import Population
from audience_dagster.sample_data.sessions import NEVER, Identification

SEND_SHARE = 0.18  # share of weekly campaigns a subscriber is targeted with
BOUNCE_SHARE = 0.015
HARD_BOUNCE_SHARE = 0.6
CLICK_SHARE = 0.18  # of opens, scaled by 0.6 + 0.4 ln(1 + engagement): the engaged click more of what they open
REOPEN_SHARE = 0.25
UNSUBSCRIBE_SHARE = 0.015  # of opens
SEED_LIST_EMAIL = "test@example.com"

PROCESSED, DELIVERED, OPEN, CLICK, BOUNCE, UNSUBSCRIBE = range(6)
EVENT_NAMES = ("processed", "delivered", "open", "click", "bounce", "unsubscribe")
_THEMES = (
    ("Weekly Picks", '["newsletter","weekly"]'),
    ("New Arrivals", '["newsletter","product"]'),
    ("Weekend Sale", '["promotion","sale"]'),
    ("Staff Favorites", '["newsletter","curated"]'),
    ("Back in Stock", '["product","restock"]'),
    ("From the Journal", '["content","journal"]'),
)
_OPEN_AGENTS = (
    (
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
        "66.249.84.",
    ),
    ("Mozilla/5.0", "17.58.101."),  # Apple Mail privacy protection proxy
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36",
        "",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148",
        "",
    ),
)
_BOUNCES = (
    ("bounce", "550 5.1.1 The email account that you tried to reach does not exist.", "5.1.1"),
    ("blocked", "421 4.7.0 Temporary System Problem. Try again later.", "4.7.0"),
)


@dataclass(frozen=True)
class Campaigns:
    send_at: np.ndarray  # ms
    campaign_id: np.ndarray
    name_json: tuple[str, ...]
    category_json: tuple[str, ...]
    click_urls: tuple[tuple[str, ...], ...]


@lru_cache(maxsize=4)
def campaign_schedule(seed: int, window: Window) -> Campaigns:
    """One campaign a week (Tuesdays, 14:00 UTC) across the observed window."""
    catalog = build_catalog(seed)
    rng = np.random.default_rng([seed, 0xE3A11])
    first_day = window.start // DAY_MS
    tuesday = first_day + (1 - (first_day + 3) % 7) % 7  # 1970-01-01 was a Thursday
    send_at = np.arange(tuesday * DAY_MS + 14 * HOUR_MS, window.end, 7 * DAY_MS, dtype=np.int64)
    names, categories, urls = [], [], []
    for k, date in enumerate(iso_dates(send_at)):
        theme, category = _THEMES[k % len(_THEMES)]
        names.append(f'"{theme} {date}"')
        categories.append(category)
        slug = f"{theme.lower().replace(' ', '-')}-{date}"
        products = rng.integers(0, catalog.products, 3).tolist()
        urls.append(
            tuple(
                f"{SITE}/p/{catalog.product_slug[p]}?utm_source=sendgrid&utm_medium=email&utm_campaign={slug}"
                for p in products
            )
        )
    return Campaigns(
        send_at=send_at,
        campaign_id=12_000 + np.arange(send_at.size),
        name_json=tuple(names),
        category_json=tuple(categories),
        click_urls=tuple(urls),
    )


@dataclass(frozen=True)
class SendgridLines:
    lines: list[str]  # ordered by event time
    persons: np.ndarray  # persons with at least one event (email and contact_id shown)
    junk: set[tuple[str, str]]


def _sends(
    rng: np.random.Generator, pop: Population, ident: Identification, campaigns: Campaigns
) -> tuple[np.ndarray, np.ndarray]:
    subscribers = np.flatnonzero(ident.subscribed_at < NEVER)
    first = np.searchsorted(campaigns.send_at, ident.subscribed_at[subscribers])
    count = campaigns.send_at.size - first
    person = np.repeat(subscribers, count)
    campaign = np.repeat(first - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
    share = SEND_SHARE * np.clip(0.7 + 0.3 * np.log1p(pop.engagement[person]), 0.5, 1.6)
    targeted = rng.random(person.size) < np.where(pop.researcher[person], 1.0, share)  # they asked for every one
    return person[targeted], campaign[targeted]


def _timeline(
    rng: np.random.Generator,
    processed: np.ndarray,
    keep: np.ndarray,
    bounced: np.ndarray,
    opened: np.ndarray,
    clicked: np.ndarray,
    unsubscribed: np.ndarray,
    window: Window,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every event of every send up to the window's end, in time order: (send, event kind, time)."""
    k = processed.size
    delivered = processed + rng.integers(1, 60, k) * SECOND_MS
    open_at = delivered + (np.exp(rng.normal(np.log(2.0), 1.2, k)) * HOUR_MS).astype(np.int64)
    reopen_at = open_at + (np.exp(rng.normal(np.log(6.0), 1.0, k)) * HOUR_MS).astype(np.int64)
    events = [
        (PROCESSED, keep, processed),
        (DELIVERED, keep & ~bounced, delivered),
        (BOUNCE, keep & bounced, processed + rng.integers(1, 30, k) * SECOND_MS),
        (OPEN, keep & opened, open_at),
        (OPEN, keep & opened & (rng.random(k) < REOPEN_SHARE), reopen_at),
        (CLICK, keep & clicked, open_at + rng.integers(5, 300, k) * SECOND_MS),
        (UNSUBSCRIBE, keep & unsubscribed, open_at + rng.integers(10, 600, k) * SECOND_MS),
    ]
    send = np.concatenate([np.flatnonzero(mask) for _, mask, _ in events])
    event = np.concatenate([np.full(int(mask.sum()), e) for e, mask, _ in events])
    at = np.concatenate([t[mask] for _, mask, t in events])
    live = at < window.end
    send, event, at = send[live], event[live], at[live]
    order = np.argsort(at, kind="stable")
    send, event, at = send[order], event[order], at[order]

    return send, event, at


def _add_event_details(
    rng: np.random.Generator,
    lines: list[str],
    event: np.ndarray,
    send: np.ndarray,
    hard: np.ndarray,
    p_send: np.ndarray,
    c_send: np.ndarray,
    open_kind: np.ndarray,
    click_agent: np.ndarray,
    primary_ip: np.ndarray,
    campaigns: Campaigns,
) -> None:
    """Append what opens (agent, ip), clicks (agent, ip, url) and bounces (reason, status) carry."""
    rows = np.flatnonzero(event == OPEN)
    agents = np.asarray([a for a, _ in _OPEN_AGENTS], dtype=object)[open_kind[p_send[rows]]]
    prefixes = np.asarray([x for _, x in _OPEN_AGENTS], dtype=object)[open_kind[p_send[rows]]]
    for i, agent, prefix, last, own_ip in zip(
        rows.tolist(),
        agents.tolist(),
        prefixes.tolist(),
        rng.integers(1, 255, rows.size).tolist(),
        primary_ip[p_send[rows]].tolist(),
        strict=True,
    ):
        lines[i] += f',"useragent":"{agent}","ip":"{prefix + str(last) if prefix else own_ip}"'
    rows = np.flatnonzero(event == CLICK)
    urls = np.asarray(campaigns.click_urls, dtype=object)[c_send[rows], rng.integers(0, 3, rows.size)]
    for i, agent, ip, url in zip(
        rows.tolist(),
        click_agent[p_send[rows]].tolist(),
        primary_ip[p_send[rows]].tolist(),
        urls.tolist(),
        strict=True,
    ):
        lines[i] += f',"useragent":"{agent}","ip":"{ip}","url":"{url}"'
    rows = np.flatnonzero(event == BOUNCE)
    for i, hard_bounce in zip(rows.tolist(), hard[send[rows]].tolist(), strict=True):
        kind, reason, status = _BOUNCES[0 if hard_bounce else 1]
        lines[i] += f',"reason":"{reason}","status":"{status}","type":"{kind}"'


def simulate_sendgrid(
    rng: np.random.Generator,
    pop: Population,
    devices: Devices,
    ident: Identification,
    campaigns: Campaigns,
    window: Window,
    seed_list: bool,
) -> SendgridLines:
    person, campaign = _sends(rng, pop, ident, campaigns)
    k = person.size
    processed = campaigns.send_at[campaign] + (rng.random(k) * 45 * MINUTE_MS).astype(np.int64)
    bounced = rng.random(k) < BOUNCE_SHARE
    hard = bounced & (rng.random(k) < HARD_BOUNCE_SHARE)
    opened = ~bounced & (rng.random(k) < np.clip(0.1 + 0.18 * np.sqrt(pop.engagement[person]), 0.02, 0.85))
    click_share = np.clip(CLICK_SHARE * (0.6 + 0.4 * np.log1p(pop.engagement[person])), 0.05, 0.6)
    clicked = opened & (rng.random(k) < click_share)
    unsubscribed = opened & (rng.random(k) < UNSUBSCRIBE_SHARE)
    # nothing is sent after an unsubscribe or a hard bounce
    stop = np.full(pop.size, NEVER)
    np.minimum.at(stop, person[hard | unsubscribed], processed[hard | unsubscribed])
    keep = processed <= stop[person]

    send, event, at = _timeline(rng, processed, keep, bounced, opened, clicked, unsubscribed, window)

    # per send: message ids, the address as stored by the provider, agents for opens/clicks
    message_b64 = np.asarray(base64url_ids(rng, k), dtype=object)
    filter_hex = np.asarray(hex_of(processed // SECOND_MS, 8), dtype=object)
    spelling = rng.choice(3, pop.size, p=[0.85, 0.12, 0.03])
    stored_email = pop.ids.email_variants[spelling, np.arange(pop.size)]
    primary = devices.person_first_device[:-1]
    primary_ip = devices.slot_ip[devices.first_slot[primary]]
    profile = devices.profile[primary]
    click_agent = np.asarray([p[4] if not p[1] else _OPEN_AGENTS[3][0] for p in PROFILES], dtype=object)[profile]
    gmail = np.asarray([e.endswith("@gmail.com") for e in pop.ids.email.tolist()])
    apple = np.asarray([e.endswith(("@icloud.com", "@me.com")) for e in pop.ids.email.tolist()])
    open_kind = np.where(gmail, 0, np.where(apple, 1, 2 + devices.is_app[primary]))
    category_json = np.asarray(campaigns.category_json, dtype=object)
    name_json = np.asarray(campaigns.name_json, dtype=object)

    p_send, c_send = person[send], campaign[send]
    lines = [
        f'{{"email":"{e}","timestamp":{t},"event":"{EVENT_NAMES[ev]}","sg_event_id":"{sg}",'
        f'"sg_message_id":"{m}.filterdrecv-5f7c9d8b6-x8k2p-1-{fh}-{s % 97}.0",'
        f'"smtp-id":"<{m}@geopod-ismtpd-{s % 31}>","category":{cat},'
        f'"marketing_campaign_id":{cid},"marketing_campaign_name":{name},"contact_id":"{ct}"'
        for e, t, ev, sg, m, fh, s, cat, cid, name, ct in zip(
            stored_email[p_send].tolist(),
            (at // SECOND_MS).tolist(),
            event.tolist(),
            base64url_ids(rng, at.size),
            message_b64[send].tolist(),
            filter_hex[send].tolist(),
            send.tolist(),
            category_json[c_send].tolist(),
            campaigns.campaign_id[c_send].tolist(),
            name_json[c_send].tolist(),
            pop.contact_id[p_send].tolist(),
            strict=True,
        )
    ]
    _add_event_details(rng, lines, event, send, hard, p_send, c_send, open_kind, click_agent, primary_ip, campaigns)
    lines = [line + "}" for line in lines]
    junk: set[tuple[str, str]] = set()
    if seed_list:
        seed_lines = _seed_list_lines(rng, campaigns, window)
        if seed_lines:
            lines = _merge_by_time(lines, at, seed_lines)
            junk.add(("email", SEED_LIST_EMAIL))
    return SendgridLines(lines=lines, persons=np.unique(p_send), junk=junk)


def _seed_list_lines(rng: np.random.Generator, campaigns: Campaigns, window: Window) -> list[tuple[int, str]]:
    """The marketing team's seed address gets every campaign: processed, delivered, open."""
    out = []
    k = campaigns.send_at.size
    ids = base64url_ids(rng, 3 * k)
    message = base64url_ids(rng, k)
    agent, proxy = _OPEN_AGENTS[0]
    for c, sent in enumerate(campaigns.send_at.tolist()):
        for step, (event, delay) in enumerate((("processed", 0), ("delivered", 4_000), ("open", 600_000))):
            at = sent + delay
            if at >= window.end:
                continue
            extra = f',"useragent":"{agent}","ip":"{proxy}{c % 250 + 1}"' if step == 2 else ""
            out.append(
                (
                    at,
                    f'{{"email":"{SEED_LIST_EMAIL}","timestamp":{at // SECOND_MS},'
                    f'"event":"{event}","sg_event_id":"{ids[3 * c + step]}",'
                    f'"sg_message_id":"{message[c]}.filterdrecv-5f7c9d8b6-x8k2p-1-'
                    f'{sent // SECOND_MS:08X}-0.0","smtp-id":"<{message[c]}@geopod-ismtpd-0>",'
                    f'"category":{campaigns.category_json[c]},'
                    f'"marketing_campaign_id":{campaigns.campaign_id[c]},'
                    f'"marketing_campaign_name":{campaigns.name_json[c]}{extra}}}',
                )
            )
    return out


def _merge_by_time(lines: list[str], at: np.ndarray, extra: list[tuple[int, str]]) -> list[str]:
    extra_at = np.asarray([t for t, _ in extra], dtype=np.int64)
    all_at = np.concatenate([at, extra_at])
    order = np.argsort(all_at, kind="stable")
    pool = lines + [line for _, line in extra]
    return [pool[i] for i in order.tolist()]

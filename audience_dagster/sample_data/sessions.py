"""Visits: browsing sessions, checkout sessions, households and who is identified when.

A session is one burst of activity (under ~30 minutes) on one device and anonymous id. Known
people identify once (sign-up or newsletter form) in one of their sessions; on their other
anonymous ids they log in at some point with probability ``LOGIN_ELSEWHERE``; from then on the
Segment messages of that anonymous id carry their ``userId``. Most known people acquired
before the window signed up back then and are already logged in on their first visit. About
2% of known people share one device with another known person of the chunk (a household):
both identify on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audience_dagster.sample_data.catalog import ORGANIC_REFERRERS, UTM_CAMPAIGNS
from audience_dagster.sample_data.devices import Devices, pick_device
from audience_dagster.sample_data.encode import MINUTE_MS, SECOND_MS
from audience_dagster.sample_data.params import Window
from audience_dagster.sample_data.population import Population
from audience_dagster.sample_data.purchases import Orders

SESSIONS_PER_WEEK = 0.075  # at engagement 1
UTM_SHARE = 0.30
HOUSEHOLD_SHARE = 0.02
LOGIN_ELSEWHERE = 0.5
PRE_SIGNED_UP = 0.8  # of known people acquired before the window
REIDENTIFY = 0.12
CONSENT_SHARE = 0.05
FAR_FUTURE_SESSION_SHARE = 0.001
CHECKOUT_STEP_MS = 60 * SECOND_MS
NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Sessions:
    person: np.ndarray
    slot: np.ndarray
    start: np.ndarray  # ms, true time
    order: np.ndarray  # index into the observed web orders, -1 for browsing sessions
    campaign: np.ndarray  # UTM campaign of the landing page, -1 for none
    referrer: np.ndarray  # object: external referrer of the landing page
    far_future: np.ndarray  # device clock years ahead and no sentAt (uncorrectable)
    identified: np.ndarray  # messages carry the person's userId (if they have one)
    identify: np.ndarray  # an identify call opens the session
    login: np.ndarray  # ... and it is the first on this anonymous id (log-in or sign-up)
    signup: np.ndarray  # the person signs up here (first identification)
    consent: np.ndarray  # a consent preference update happens here
    shared_slots: np.ndarray  # slots used by two people (households)

    @property
    def size(self) -> int:
        return self.start.size


@dataclass(frozen=True)
class Identification:
    """Per person: when they first identified (ms, NEVER if not) and subscribed to email."""

    identified_at: np.ndarray
    subscribed_at: np.ndarray


def _session_starts(
    rng: np.random.Generator, pop: Population, web_orders: Orders, window: Window
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(person, start, order) of browsing sessions (order -1) and then checkout sessions."""
    weeks = (pop.active_until - pop.active_from) / (7 * 86_400_000)
    browse = 1 + rng.poisson(SESSIONS_PER_WEEK * pop.engagement * weeks)
    b_person = np.repeat(np.arange(pop.size), browse)
    span = (pop.active_until - pop.active_from)[b_person]
    b_start = pop.active_from[b_person] + (rng.random(b_person.size) * span).astype(np.int64)
    # a checkout session walks the products, the cart and the checkout before the order time
    items = np.diff(web_orders.item_start)
    lead = items * CHECKOUT_STEP_MS + 150 * SECOND_MS + (rng.random(web_orders.size) * MINUTE_MS).astype(np.int64)
    person = np.concatenate([b_person, web_orders.person])
    start = np.concatenate([b_start, np.maximum(web_orders.at - lead, window.start)])
    order = np.concatenate([np.full(b_person.size, -1), np.arange(web_orders.size)])
    return person, start, order


def _share_devices(
    rng: np.random.Generator,
    known: np.ndarray,
    first_login: np.ndarray,
    person: np.ndarray,
    order: np.ndarray,
    slot: np.ndarray,
) -> np.ndarray:
    """Pair up known people into households: b browses on a's device (where a first logged in)
    for about 30% of b's sessions, including b's own first log-in. Moves those sessions to a's
    slot (in place) and returns the shared slots."""
    pairs = int(round(HOUSEHOLD_SHARE * known.size / 2))
    if pairs == 0:
        return np.zeros(0, dtype=np.int64)
    chosen = rng.choice(known, 2 * pairs, replace=False)
    a, b = chosen[:pairs], chosen[pairs:]
    shared_slots = slot[first_login[a]]
    host = np.full(first_login.size, -1)
    host[b] = np.arange(pairs)
    guest = (host[person] >= 0) & (order < 0) & (rng.random(person.size) < 0.3)
    guest[first_login[b]] = True
    slot[guest] = shared_slots[host[person[guest]]]
    return shared_slots


def _log_ins(
    rng: np.random.Generator,
    pop: Population,
    person: np.ndarray,
    slot: np.ndarray,
    start: np.ndarray,
    first_login: np.ndarray,
    known: np.ndarray,
    is_shared: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per session: (identified, identify, login) from the log-ins on each (anonymous id, person).

    A group of sessions of one person on one anonymous id logs in at the person's first log-in
    (if it is in the group), at its first session on a shared device, or else — with
    probability LOGIN_ELSEWHERE — at a random, rather early session. From then on its sessions
    are identified; some open with a new identify call (every one on a shared device).
    """
    m = person.size
    by_group = np.lexsort((start, person, slot))
    g_person, g_start = person[by_group], start[by_group]
    key = slot[by_group] * np.int64(pop.size) + g_person
    new_group = np.r_[True, key[1:] != key[:-1]]
    heads = np.flatnonzero(new_group)
    group_of = np.cumsum(new_group) - 1
    sizes = np.diff(np.r_[heads, m])
    shared_g = is_shared[slot[by_group][heads]]
    position = np.empty(m, dtype=np.int64)
    position[by_group] = np.arange(m)
    first_pos = position[first_login[known]]
    first_in_group = np.full(heads.size, -1)
    first_in_group[group_of[first_pos]] = first_pos
    random_pos = heads + (rng.random(heads.size) ** 2 * sizes).astype(np.int64)
    login_pos = np.where(first_in_group >= 0, first_in_group, np.where(shared_g, heads, random_pos))
    logs_in = pop.known[g_person[heads]] & (
        (first_in_group >= 0) | shared_g | (rng.random(heads.size) < LOGIN_ELSEWHERE)
    )
    login_at = np.where(logs_in, g_start[login_pos], NEVER)
    identified_sorted = g_start >= login_at[group_of]
    login_sorted = np.zeros(m, dtype=bool)
    login_sorted[login_pos[logs_in]] = True
    again = np.where(shared_g[group_of], 1.0, REIDENTIFY * pop.has_user_id[g_person])
    identify_sorted = login_sorted | (identified_sorted & (rng.random(m) < again))
    identified, identify, login = (np.empty(m, dtype=bool) for _ in range(3))
    identified[by_group], identify[by_group], login[by_group] = identified_sorted, identify_sorted, login_sorted
    return identified, identify, login


def simulate_sessions(
    rng: np.random.Generator,
    pop: Population,
    devices: Devices,
    web_orders: Orders,
    window: Window,
) -> tuple[Sessions, Identification]:
    n = pop.size
    person, start, order = _session_starts(rng, pop, web_orders, window)
    m = person.size
    slot = devices.slot_at(pick_device(rng, devices, person), start)

    # the session in which each known person first logs in (early ones more likely); most
    # people acquired before the window signed up back then: logged in on the first visit we see
    by_person = np.lexsort((start, person))
    first = np.searchsorted(person[by_person], np.arange(n))
    count = np.bincount(person, minlength=n)
    known = np.flatnonzero(pop.known & (count > 0))
    signed_up_before = pop.known & (pop.acquired < window.start) & (rng.random(n) < PRE_SIGNED_UP)
    rank = (rng.random(known.size) ** 2 * count[known]).astype(np.int64)
    first_login = np.full(n, -1)
    first_login[known] = by_person[first[known] + np.where(signed_up_before[known], 0, rank)]

    shared_slots = _share_devices(rng, known, first_login, person, order, slot)
    is_shared = np.zeros(devices.slot_device.size, dtype=bool)
    is_shared[shared_slots] = True
    identified, identify, login = _log_ins(rng, pop, person, slot, start, first_login, known, is_shared)
    signup = np.zeros(m, dtype=bool)
    signup[first_login[known[~signed_up_before[known]]]] = True

    consent = np.zeros(m, dtype=bool)
    consenting = known[rng.random(known.size) < CONSENT_SHARE]
    consent[by_person[first[consenting] + (rng.random(consenting.size) * count[consenting]).astype(np.int64)]] = True

    campaign = np.where(rng.random(m) < UTM_SHARE, rng.integers(0, len(UTM_CAMPAIGNS), m), -1)
    organic = np.asarray(ORGANIC_REFERRERS, dtype=object)[rng.integers(0, len(ORGANIC_REFERRERS), m)]
    utm_referrer = np.asarray([c[5] for c in UTM_CAMPAIGNS], dtype=object)
    referrer = np.where(campaign >= 0, utm_referrer[np.maximum(campaign, 0)], organic)

    identified_at = np.full(n, NEVER)
    identified_at[known] = start[first_login[known]]
    identified_at[signed_up_before] = pop.acquired[signed_up_before]
    subscribed_at = np.where(pop.will_subscribe & (identified_at < NEVER), identified_at + pop.subscribe_delay, NEVER)
    sessions = Sessions(
        person=person,
        slot=slot,
        start=start,
        order=order,
        campaign=campaign,
        referrer=referrer,
        far_future=rng.random(m) < FAR_FUTURE_SESSION_SHARE,
        identified=identified,
        identify=identify,
        login=login,
        signup=signup,
        consent=consent,
        shared_slots=shared_slots,
    )
    return sessions, Identification(identified_at=identified_at, subscribed_at=subscribed_at)

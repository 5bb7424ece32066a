"""The simulated people of one chunk: latent traits, drawn column-wise with numpy.

Traits drive everything downstream: engagement sets how often someone visits, opens and
clicks email and posts; spend level and price sensitivity shape orders, discount use and
browsing; the buy-till-you-die parameters (purchase rate, dropout probability) drive the
purchase process. A small share of researchers — very engaged, subscribed, browsing the
premium collection, never buying — stands for the window shoppers of real audiences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audience_dagster.sample_data.catalog import CATEGORIES
from audience_dagster.sample_data.encode import DAY_MS, uuid4
from audience_dagster.sample_data.names import (
    CITIES,
    PersonIdentifiers,
    person_identifiers,
    weights,
)
from audience_dagster.sample_data.params import Window

PLATFORMS = ("instagram", "tiktok", "x", "facebook")
_PLATFORM_P = weights((40.0, 25.0, 15.0, 20.0))

# tuning: shares and rates that set the overall event volume (see the module docstring)
PRE_WINDOW_SHARE = 0.35  # people acquired before the observed window
KNOWN_INTERCEPT = 0.0
CUSTOMER_INTERCEPT = -1.15
USER_ID_SHARE = 0.60
PHONE_SHARE = 0.30
HANDLE_SHARE = 0.22
SUBSCRIBE_SHARE = 0.62
PURCHASE_SHAPE, PURCHASE_SCALE_PER_DAY = 1.0, 1.0 / 26.0
DROPOUT_A, DROPOUT_B = 1.2, 5.0
SPEND_SHAPE, SPEND_SCALE = 4.0, 16.0  # spend level (mean order value) ~ Gamma, mean $64
WEB_LIFETIME_DAYS = 260.0
# researchers: people who read, click and browse the premium collection for months without buying
# (yet): subscribed, very engaged, still active at the window's end — the spec's "high-WTP
# non-buyers" exist in real audiences; without them that segment would be empty by construction
RESEARCHER_SHARE = 0.002
RESEARCHER_DAYS = (270, 330)  # how long before the window's end they arrived
RESEARCHER_ENGAGEMENT = (np.log(60.0), 0.3)  # log-normal: 4-5 browsing sessions a week (sessions.py)
RESEARCHER_PREMIUM = 0.7


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Population:
    index: np.ndarray  # global 0-based person index
    acquired: np.ndarray  # ms
    active_from: np.ndarray  # ms: start of web activity inside the window
    active_until: np.ndarray  # ms: end of web activity (interest fades), ≤ window end
    engagement: np.ndarray
    known: np.ndarray
    has_user_id: np.ndarray
    has_phone: np.ndarray
    customer: np.ndarray
    purchase_rate: np.ndarray  # purchases per day while alive (λ)
    dropout_prob: np.ndarray  # p: chance to drop out after each purchase
    spend_mean: np.ndarray  # dollars per order
    price_sensitivity: np.ndarray
    interests: np.ndarray  # (n, 3) category indices, -1 = none
    premium: np.ndarray  # browses the premium collection
    discount: np.ndarray  # browses the sale collection, uses discount codes
    city: np.ndarray
    platforms: np.ndarray  # (n, len(PLATFORMS)) bool: has a handle there
    will_subscribe: np.ndarray
    subscribe_delay: np.ndarray  # ms after identification (0 = at sign-up)
    contact_id: np.ndarray  # object: email provider's contact uuid
    ids: PersonIdentifiers
    researcher: np.ndarray  # very engaged, subscribed to every campaign, never buys (module docstring)

    @property
    def size(self) -> int:
        return self.index.size

    def interest_labels(self) -> list[str]:
        """Pipe-joined interests, e.g. ``electronics|home|premium``."""
        cats = self.interests.tolist()
        return [
            "|".join([CATEGORIES[c] for c in row if c >= 0] + ["premium"] * bool(p) + ["discount"] * bool(d))
            for row, p, d in zip(cats, self.premium.tolist(), self.discount.tolist(), strict=True)
        ]


def _arrivals(
    rng: np.random.Generator, n: int, window: Window, researcher: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(acquired, start and end of web activity), ms: before or inside the window; researchers
    arrived 9-11 months before the window's end and are still reading at its end."""
    span = window.end - window.start
    before = rng.random(n) < PRE_WINDOW_SHARE
    acquired = np.where(
        before,
        window.start - (rng.random(n) * 730 * DAY_MS).astype(np.int64),
        window.start + (rng.random(n) * span).astype(np.int64),
    )
    low, high = RESEARCHER_DAYS
    researching = ((low + rng.random(n) * (high - low)) * DAY_MS).astype(np.int64)
    acquired = np.where(researcher, np.maximum(window.start, window.end - researching), acquired)
    active_from = np.maximum(acquired, window.start)
    lifetime = (rng.exponential(WEB_LIFETIME_DAYS, n) * DAY_MS).astype(np.int64)
    # memoryless: people acquired earlier have the same remaining interest from the start
    active_until = np.minimum(window.end - 1, active_from + np.maximum(lifetime, DAY_MS))
    return acquired, active_from, np.where(researcher, window.end - 1, active_until)


def simulate_population(rng: np.random.Generator, index: np.ndarray, people: int, window: Window) -> Population:
    n = index.size
    researcher = rng.random(n) < RESEARCHER_SHARE
    acquired, active_from, active_until = _arrivals(rng, n, window, researcher)
    log_eng = np.where(researcher, rng.normal(*RESEARCHER_ENGAGEMENT, n), rng.normal(-0.5, 1.0, n))
    engagement = np.exp(log_eng)
    known = researcher | (rng.random(n) < sigmoid(KNOWN_INTERCEPT + 0.9 * (log_eng + 0.5)))
    has_user_id = known & (rng.random(n) < USER_ID_SHARE)
    has_phone = known & (rng.random(n) < PHONE_SHARE)
    customer = known & ~researcher & (rng.random(n) < sigmoid(CUSTOMER_INTERCEPT + 0.8 * (log_eng + 0.5)))

    purchase_rate = np.minimum(
        rng.gamma(PURCHASE_SHAPE, PURCHASE_SCALE_PER_DAY, n) * np.exp(0.25 * (log_eng + 0.5)),
        1.0 / 3.0,
    )
    dropout_prob = rng.beta(DROPOUT_A, DROPOUT_B, n)
    spend_mean = rng.gamma(SPEND_SHAPE, SPEND_SCALE, n)
    price_sensitivity = rng.beta(2.0, 3.0, n)

    order = np.argsort(rng.random((n, len(CATEGORIES))), axis=1)[:, :3].astype(np.int8)
    order[rng.random(n) < 0.5, 2] = -1
    premium_share = np.where(researcher, RESEARCHER_PREMIUM, np.clip((spend_mean - 70.0) / 120.0, 0.02, 0.8))
    premium = rng.random(n) < premium_share
    discount = ~researcher & (rng.random(n) < np.clip(price_sensitivity**1.5 * 1.2, 0.02, 0.85))

    city = rng.choice(len(CITIES), n, p=weights(tuple(c[6] for c in CITIES)))
    has_handle = known & (rng.random(n) < HANDLE_SHARE)
    first = rng.choice(len(PLATFORMS), n, p=_PLATFORM_P)
    second = rng.choice(len(PLATFORMS), n, p=_PLATFORM_P)
    platforms = np.zeros((n, len(PLATFORMS)), dtype=bool)
    platforms[np.arange(n), first] = has_handle
    platforms[np.arange(n), second] |= has_handle & (rng.random(n) < 0.3)

    will_subscribe = researcher | (known & (rng.random(n) < SUBSCRIBE_SHARE))
    subscribe_delay = np.where(
        ~researcher & (rng.random(n) < 0.3), (rng.exponential(90.0, n) * DAY_MS).astype(np.int64), 0
    )
    contact_id = np.asarray(uuid4(rng, n), dtype=object)
    ids = person_identifiers(rng, index, people, city)
    return Population(
        index=index,
        acquired=acquired,
        active_from=active_from,
        active_until=active_until,
        engagement=engagement,
        known=known,
        has_user_id=has_user_id,
        has_phone=has_phone,
        customer=customer,
        purchase_rate=purchase_rate,
        dropout_prob=dropout_prob,
        spend_mean=spend_mean,
        price_sensitivity=price_sensitivity,
        interests=order,
        premium=premium,
        discount=discount,
        city=city,
        platforms=platforms,
        will_subscribe=will_subscribe,
        subscribe_delay=subscribe_delay,
        contact_id=contact_id,
        ids=ids,
        researcher=researcher,
    )


def pick_interest_category(
    rng: np.random.Generator, persons: np.ndarray, pop: Population, loyalty: float = 0.75
) -> np.ndarray:
    """A category per row: one of the person's interests with ``loyalty``, else any."""
    m = persons.size
    counts = (pop.interests[persons] >= 0).sum(axis=1)
    slot = (rng.random(m) * counts).astype(np.int64)
    own = pop.interests[persons, slot].astype(np.int64)
    other = rng.integers(0, len(CATEGORIES), m)
    return np.where(rng.random(m) < loyalty, own, other)

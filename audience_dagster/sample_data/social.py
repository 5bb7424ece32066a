"""Social engagement: likes, shares, comments and follows on the brand's posts.

People with a handle on a platform (instagram, tiktok, x, facebook) engage with the brand's
posts at a rate that rises with engagement. About 10% of records carry an email (lead-form
submissions), which links a handle to a known person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import orjson

from audience_dagster.sample_data.encode import DAY_MS, iso_ms, uuid4
from audience_dagster.sample_data.names import pick_email_variant
from audience_dagster.sample_data.params import Window
from audience_dagster.sample_data.population import PLATFORMS, Population

ACTIONS_PER_YEAR = 3.0  # per handle, at engagement 1
EMAIL_SHARE = 0.10
ACTIONS = ("like", "share", "comment", "follow")
_ACTION_P = (0.58, 0.12, 0.15, 0.15)
# brand post ids: one post a day per platform, ids in each platform's own style
_POST_BASE = (
    17_900_000_000_000_000,
    7_300_000_000_000_000_000,
    1_780_000_000_000_000_000,
    104_000_000_000,
)
_POST_STEP = (1_000_003, 10_000_019, 10_000_079, 1_009)
FACEBOOK_PAGE_ID = 104_523_456_789_012
_COMMENTS = tuple(
    orjson.dumps(c).decode()
    for c in (
        "Love this!",
        "Need this in blue 😍",
        "Just ordered mine",
        "Does it ship to Canada?",
        "Great quality, had mine for a year",
        "Price drop when?",
        "Obsessed 🔥",
        "Can you restock the small size?",
        "This is so cute",
        "Bought it for my sister, she loved it",
    )
)


@dataclass(frozen=True)
class SocialLines:
    lines: list[str]  # ordered by occurred_at
    handle_pairs: np.ndarray  # (k, 2) unique (person, platform) that appeared
    email_persons: np.ndarray


def simulate_social(rng: np.random.Generator, pop: Population, window: Window) -> SocialLines:
    person, platform = np.nonzero(pop.platforms)
    start = np.maximum(pop.acquired[person], window.start)
    years = (window.end - start) / (365.25 * DAY_MS)
    count = rng.poisson(ACTIONS_PER_YEAR * pop.engagement[person] ** 0.7 * years)
    e_person = np.repeat(person, count)
    e_platform = np.repeat(platform, count)
    e_start = np.repeat(start, count)
    at = e_start + (rng.random(e_person.size) * (window.end - e_start)).astype(np.int64)
    order = np.argsort(at, kind="stable")
    e_person, e_platform, at = e_person[order], e_platform[order], at[order]
    k = at.size

    action = rng.choice(len(ACTIONS), k, p=_ACTION_P)
    post_day = at // DAY_MS - rng.geometric(0.35, k) + 1
    post_id = (
        np.asarray(_POST_BASE, dtype=np.int64)[e_platform]
        + post_day * np.asarray(_POST_STEP, dtype=np.int64)[e_platform]
    )
    post = [
        "null" if a == 3 else (f'"{FACEBOOK_PAGE_ID}_{pid}"' if pl == 3 else f'"{pid}"')
        for a, pl, pid in zip(action.tolist(), e_platform.tolist(), post_id.tolist(), strict=True)
    ]
    with_email = rng.random(k) < EMAIL_SHARE
    email = np.where(with_email, pick_email_variant(rng, e_person, pop.ids), None)
    comment = rng.integers(0, len(_COMMENTS), k)
    platforms = np.asarray(PLATFORMS, dtype=object)
    lines = []
    for eid, pl, a, h, t, pid, e, c in zip(
        uuid4(rng, k),
        platforms[e_platform].tolist(),
        action.tolist(),
        pop.ids.handle[e_person].tolist(),
        iso_ms(at),
        post,
        email.tolist(),
        comment.tolist(),
        strict=True,
    ):
        line = (
            f'{{"event_id":"{eid}","platform":"{pl}","action":"{ACTIONS[a]}",'
            f'"handle":"{h}","occurred_at":"{t}","post_id":{pid}'
        )
        if e is not None:
            line += f',"email":"{e}"'
        if a == 2:
            line += f',"comment_text":{_COMMENTS[c]}'
        lines.append(line + "}")
    pairs = np.unique(e_person.astype(np.int64) * len(PLATFORMS) + e_platform)
    return SocialLines(
        lines=lines,
        handle_pairs=np.stack([pairs // len(PLATFORMS), pairs % len(PLATFORMS)], axis=1),
        email_persons=np.unique(e_person[with_email]),
    )

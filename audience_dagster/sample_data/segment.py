"""Serialise the planned Segment calls as Segment-spec JSON lines (as in Segment's archive).

Clocks: for a call at true time ``t`` on a device whose clock is off by ``skew``::

    timestamp  = t + skew                    (the device's clock)
    sentAt     = t + skew + client delay     (the device's clock when the batch left)
    receivedAt = t + client delay + network  (Segment's clock)

so ``receivedAt - (sentAt - timestamp) = t + network`` recovers the true time within a
second. A few sessions come from devices whose clock is years ahead and send no ``sentAt``:
those cannot be corrected (loaders clamp them to ``receivedAt``). Lines are ordered by
``receivedAt``. A small share of calls carries junk ids (``userId`` "null", "undefined", …;
``anonymousId`` "undefined").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audience_dagster.sample_data.catalog import Catalog
from audience_dagster.sample_data.devices import Devices
from audience_dagster.sample_data.encode import DAY_MS, iso_ms, uuid4
from audience_dagster.sample_data.names import JUNK_ANONYMOUS_IDS, JUNK_USER_IDS
from audience_dagster.sample_data.population import Population
from audience_dagster.sample_data.segment_calls import ALIAS, IDENTIFY, MESSAGE_TYPES, MessagePlan
from audience_dagster.sample_data.sessions import Sessions
from audience_dagster.sample_data.site_activity import PageViews

JUNK_USER_ID_SHARE = 0.003
JUNK_ANONYMOUS_ID_SHARE = 0.001


@dataclass(frozen=True)
class SegmentLines:
    lines: list[str]  # ordered by receivedAt
    anonymous_pairs: np.ndarray  # (k, 2) unique (slot, person) seen with a real anonymousId
    device_pairs: np.ndarray  # (k, 2) unique (device, person) of app calls (context.device.id)
    user_id_persons: np.ndarray  # persons whose real userId appeared
    junk: set[tuple[str, str]]  # (identifier_type, value) junk ids written


def _unique_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    key = np.unique((a.astype(np.int64) << 32) | b.astype(np.int64))
    return np.stack([key >> 32, key & 0xFFFFFFFF], axis=1)


def _page_fragments(plan: MessagePlan, views: PageViews, catalog: Catalog) -> np.ndarray:
    """Per message, what its context adds after the device's: the page, the campaign, extras."""
    m = plan.size
    page_frag = np.full(m, "", dtype=object)
    on_page = np.flatnonzero(plan.page_view >= 0)
    page_frag[on_page] = [f',"page":{j}' for j in views.context_json[plan.page_view[on_page]].tolist()]
    campaign = np.full(m, -1)
    campaign[on_page] = views.campaign[plan.page_view[on_page]]
    rows = np.flatnonzero(campaign >= 0)
    utm = np.asarray(catalog.utm_campaign_json, dtype=object)
    page_frag[rows] = [
        f'{p},"campaign":{c}' for p, c in zip(page_frag[rows].tolist(), utm[campaign[rows]].tolist(), strict=True)
    ]
    rows = np.flatnonzero(plan.context_extra != "")
    page_frag[rows] = [
        f"{p},{x}" for p, x in zip(page_frag[rows].tolist(), plan.context_extra[rows].tolist(), strict=True)
    ]
    return page_frag


def serialise_segment(
    rng: np.random.Generator,
    plan: MessagePlan,
    sessions: Sessions,
    views: PageViews,
    pop: Population,
    devices: Devices,
    catalog: Catalog,
) -> SegmentLines:
    m = plan.size
    session = plan.session
    person = sessions.person[session]
    slot = sessions.slot[session]
    device = devices.slot_device[slot]
    far = sessions.far_future[session]

    t = plan.at
    clock = t + devices.skew_ms[device] + np.where(far, (rng.uniform(700, 760, m) * DAY_MS).astype(np.int64), 0)
    delay = rng.integers(0, 2_000, m)
    received = t + delay + rng.integers(20, 1_000, m)
    sent = clock + delay

    has_uid = pop.has_user_id[person]
    carries = np.where(
        plan.kind == ALIAS,
        True,
        np.where(plan.kind == IDENTIFY, has_uid, sessions.identified[session] & has_uid),
    )
    junk_uid = (plan.kind != ALIAS) & (rng.random(m) < JUNK_USER_ID_SHARE)
    junk_uid_value = rng.integers(0, len(JUNK_USER_IDS), m)
    junk_anon = carries & ~junk_uid & (plan.kind != ALIAS) & (rng.random(m) < JUNK_ANONYMOUS_ID_SHARE)
    anonymous_id = np.where(junk_anon, JUNK_ANONYMOUS_IDS[0], devices.slot_anonymous_id[slot])
    user_frag = np.full(m, "", dtype=object)
    real = np.flatnonzero(carries & ~junk_uid)
    user_frag[real] = [f',"userId":"{u}"' for u in pop.ids.user_id[person[real]].tolist()]
    junk_rows = np.flatnonzero(junk_uid)
    user_frag[junk_rows] = [f',"userId":"{JUNK_USER_IDS[k]}"' for k in junk_uid_value[junk_rows].tolist()]

    page_frag = _page_fragments(plan, views, catalog)
    sent_frag = np.asarray([f'"sentAt":"{s}",' for s in iso_ms(sent)], dtype=object)
    sent_frag[far] = ""

    order = np.argsort(received, kind="stable")
    types = np.asarray(MESSAGE_TYPES, dtype=object)
    message_id = uuid4(rng, m)
    lines = [
        f'{{"anonymousId":"{a}","context":{c}{p}}},"messageId":"{i}",{b},"receivedAt":"{r}",'
        f'{s}"timestamp":"{ts}","type":"{ty}"{u}}}'
        for a, c, p, i, b, r, s, ts, ty, u in zip(
            anonymous_id[order].tolist(),
            devices.slot_context[slot[order]].tolist(),
            page_frag[order].tolist(),
            message_id,
            plan.body[order].tolist(),
            iso_ms(received[order]),
            sent_frag[order].tolist(),
            iso_ms(clock[order]),
            types[plan.kind[order]].tolist(),
            user_frag[order].tolist(),
            strict=True,
        )
    ]
    junk = {("user_id", JUNK_USER_IDS[k]) for k in np.unique(junk_uid_value[junk_uid]).tolist()}
    if junk_anon.any():
        junk.add(("anonymous_id", JUNK_ANONYMOUS_IDS[0]))
    app = devices.is_app[device]
    return SegmentLines(
        lines=lines,
        anonymous_pairs=_unique_pairs(slot[~junk_anon], person[~junk_anon]),
        device_pairs=_unique_pairs(device[app], person[app]),
        user_id_persons=np.unique(person[real]),
        junk=junk,
    )

"""Devices and their anonymous ids ("slots").

Each person browses on 1–3 devices (desktop/mobile/tablet, web browser or the store's app).
A device carries 1–3 anonymous ids over time: cookies are cleared and apps reinstalled, and
each id covers one stretch of the person's activity. A *slot* is one (device, anonymous id);
the Segment context of a slot (library, ip, locale, timezone, userAgent / app, device, os) is
serialised once here. About 5% of devices have a skewed clock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audience_dagster.sample_data.catalog import STORE_NAME
from audience_dagster.sample_data.encode import DAY_MS, MINUTE_MS, hex_ids, uuid4
from audience_dagster.sample_data.names import CITIES, weights
from audience_dagster.sample_data.population import Population

SKEWED_DEVICE_SHARE = 0.05
MAX_SLOTS = 3

_CHROME = "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0"
# type, app platform ("" = web), os name, os version, userAgent or (manufacturer, model),
# weight as first device, weight as another device
PROFILES: tuple[tuple[str, str, str, str, str, float, float], ...] = (
    (
        "desktop",
        "",
        "Windows",
        "10",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) " + _CHROME.format(v=126) + " Safari/537.36",
        22.0,
        10.0,
    ),
    (
        "desktop",
        "",
        "Windows",
        "10",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) " + _CHROME.format(v=125) + " Safari/537.36 Edg/125.0.2535.67",
        7.0,
        3.0,
    ),
    (
        "desktop",
        "",
        "Windows",
        "10",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
        4.0,
        2.0,
    ),
    (
        "desktop",
        "",
        "macOS",
        "10.15.7",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) " + _CHROME.format(v=126) + " Safari/537.36",
        9.0,
        5.0,
    ),
    (
        "desktop",
        "",
        "macOS",
        "10.15.7",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) "
        "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
        7.0,
        4.0,
    ),
    (
        "mobile",
        "",
        "iOS",
        "17.5.1",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) "
        "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        17.0,
        20.0,
    ),
    (
        "mobile",
        "",
        "Android",
        "14",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) " + _CHROME.format(v=126) + " Mobile Safari/537.36",
        9.0,
        11.0,
    ),
    (
        "mobile",
        "",
        "Android",
        "14",
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) "
        "AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile "
        "Safari/537.36",
        5.0,
        7.0,
    ),
    (
        "tablet",
        "",
        "iPadOS",
        "17.5",
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) "
        "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        3.0,
        6.0,
    ),
    (
        "tablet",
        "",
        "Android",
        "13",
        "Mozilla/5.0 (Linux; Android 13; SM-X710) " + _CHROME.format(v=126) + " Safari/537.36",
        1.0,
        2.0,
    ),
    ("mobile", "ios", "iOS", "17.5.1", "Apple|iPhone15,2", 7.0, 12.0),
    ("mobile", "ios", "iOS", "17.4", "Apple|iPhone14,7", 4.0, 7.0),
    ("mobile", "android", "Android", "14", "samsung|SM-S918B", 3.0, 5.0),
    ("mobile", "android", "Android", "14", "Google|Pixel 7", 2.0, 4.0),
    ("tablet", "ios", "iPadOS", "17.5", "Apple|iPad13,18", 1.0, 2.0),
)
APP_VERSIONS = (("4.2.1", "4210"), ("4.3.0", "4300"), ("4.1.7", "4170"))
LIBRARY_VERSIONS = {
    "": ("analytics.js", "next-1.70.0"),
    "ios": ("analytics-ios", "4.1.8"),
    "android": ("analytics-android", "4.11.3"),
}
_PUBLIC_FIRST_OCTETS = np.array(
    [
        24,
        47,
        50,
        63,
        66,
        67,
        68,
        69,
        70,
        71,
        72,
        73,
        74,
        75,
        76,
        96,
        97,
        98,
        99,
        104,
        107,
        108,
        142,
        162,
        173,
        174,
        184,
        208,
    ]
)


@dataclass(frozen=True)
class Devices:
    person: np.ndarray  # per device: chunk-local person
    profile: np.ndarray  # per device: row of PROFILES
    is_app: np.ndarray
    skew_ms: np.ndarray
    first_slot: np.ndarray  # per device
    cuts: np.ndarray  # (devices, MAX_SLOTS - 1): an id reset at these instants (int64 max: none)
    person_first_device: np.ndarray  # per person (+ sentinel)
    slot_device: np.ndarray  # per slot
    slot_anonymous_id: np.ndarray  # object
    slot_ip: np.ndarray  # object
    slot_context: np.ndarray  # object: '{"ip":…,"library":{…},…' without the closing brace
    slot_is_app: np.ndarray
    device_id: np.ndarray  # object: app device id ("" for browsers)

    @property
    def device_count(self) -> np.ndarray:
        return np.diff(self.person_first_device)

    def slot_at(self, device: np.ndarray, at: np.ndarray) -> np.ndarray:
        """The slot (anonymous id) a device used at an instant."""
        resets = (at[:, None] >= self.cuts[device]).sum(axis=1)
        return self.first_slot[device] + resets


def _ips(rng: np.random.Generator, n: int) -> list[str]:
    first = _PUBLIC_FIRST_OCTETS[rng.integers(0, _PUBLIC_FIRST_OCTETS.size, n)]
    rest = rng.integers(1, 255, (n, 3))
    return [f"{a}.{b}.{c}.{d}" for a, (b, c, d) in zip(first.tolist(), rest.tolist(), strict=True)]


def simulate_devices(rng: np.random.Generator, pop: Population) -> Devices:
    n = pop.size
    count = 1 + (rng.random(n) < np.clip(0.3 + 0.1 * np.log1p(pop.engagement), 0, 0.8)) + (rng.random(n) < 0.15)
    person_first_device = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(count, out=person_first_device[1:])
    person = np.repeat(np.arange(n), count)
    d = person.size
    rank = np.arange(d) - person_first_device[person]
    first_p = weights(tuple(p[5] for p in PROFILES))
    other_p = weights(tuple(p[6] for p in PROFILES))
    profile = np.where(rank == 0, rng.choice(len(PROFILES), d, p=first_p), rng.choice(len(PROFILES), d, p=other_p))
    platform = np.asarray([p[1] for p in PROFILES], dtype=object)[profile]
    is_app = platform != ""

    skewed = rng.random(d) < SKEWED_DEVICE_SHARE
    magnitude = np.exp(rng.uniform(np.log(MINUTE_MS), np.log(3 * DAY_MS), d))
    skew_ms = np.where(skewed, np.where(rng.random(d) < 0.5, -1, 1) * magnitude, 0).astype(np.int64)

    slots = np.where(is_app, rng.choice(3, d, p=[0.85, 0.12, 0.03]), rng.choice(3, d, p=[0.68, 0.22, 0.10])) + 1
    first_slot = np.zeros(d, dtype=np.int64)
    np.cumsum(slots[:-1], out=first_slot[1:])
    lo = pop.active_from[person].astype(np.float64)
    hi = pop.active_until[person].astype(np.float64)
    raw_cuts = np.sort(lo[:, None] + rng.random((d, MAX_SLOTS - 1)) * (hi - lo)[:, None], axis=1)
    cuts = np.where(
        np.arange(MAX_SLOTS - 1)[None, :] < (slots - 1)[:, None],
        raw_cuts.astype(np.int64),
        np.iinfo(np.int64).max,
    )

    slot_device = np.repeat(np.arange(d), slots)
    s = slot_device.size
    s_platform = platform[slot_device]
    anon_web = np.asarray(uuid4(rng, s), dtype=object)
    anon_ios = np.asarray(uuid4(rng, s, upper=True), dtype=object)
    anonymous_id = np.where(s_platform == "ios", anon_ios, anon_web)
    device_id = np.where(
        platform == "ios",
        np.asarray(uuid4(rng, d, upper=True), dtype=object),
        np.where(platform == "android", np.asarray(hex_ids(rng, d, 16), dtype=object), ""),
    )
    app_version = rng.integers(0, len(APP_VERSIONS), d)
    ips = _ips(rng, s)
    city = pop.city[person[slot_device]]
    context = []
    for ip, dev, c in zip(ips, slot_device.tolist(), city.tolist(), strict=True):
        _, app, os_name, os_version, agent, _, _ = PROFILES[profile[dev]]
        library, version = LIBRARY_VERSIONS[app]
        _, _, _, tz, locale, _, _ = CITIES[c]
        if app:
            maker, model = agent.split("|")
            app_v, build = APP_VERSIONS[app_version[dev]]
            context.append(
                f'{{"app":{{"build":"{build}","name":"{STORE_NAME}","namespace":'
                f'"com.harborandpine.shop","version":"{app_v}"}},"device":{{"id":'
                f'"{device_id[dev]}","manufacturer":"{maker}","model":"{model}","type":"{app}"}},'
                f'"ip":"{ip}","library":{{"name":"{library}","version":"{version}"}},'
                f'"locale":"{locale}","os":{{"name":"{os_name}","version":"{os_version}"}},'
                f'"timezone":"{tz}"'
            )
        else:
            context.append(
                f'{{"ip":"{ip}","library":{{"name":"{library}","version":"{version}"}},'
                f'"locale":"{locale}","timezone":"{tz}","userAgent":"{agent}"'
            )
    return Devices(
        person=person,
        profile=profile,
        is_app=is_app,
        skew_ms=skew_ms,
        first_slot=first_slot,
        cuts=cuts,
        person_first_device=person_first_device,
        slot_device=slot_device,
        slot_anonymous_id=anonymous_id,
        slot_ip=np.asarray(ips, dtype=object),
        slot_context=np.asarray(context, dtype=object),
        slot_is_app=is_app[slot_device],
        device_id=device_id,
    )


def pick_device(rng: np.random.Generator, devices: Devices, persons: np.ndarray) -> np.ndarray:
    """A device per row for the given persons, favouring their first (primary) device."""
    count = devices.device_count[persons]
    choice = (rng.random(persons.size) ** 1.6 * count).astype(np.int64)
    return devices.person_first_device[persons] + choice

"""Names, places and the identifiers built from them (emails, phones, handles, user ids).

Every person-level identifier embeds a scrambled, per-person unique number, so two simulated
people never share an email, phone, handle or user id (the ground truth stays unambiguous),
while the values still look like the ones real people type.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audience_dagster.sample_data.encode import hex_of, scramble

_FIRST_NAMES = (
    "james mary john patricia robert jennifer michael linda william elizabeth david barbara "
    "richard susan joseph jessica thomas sarah charles karen christopher lisa daniel nancy "
    "matthew betty anthony sandra mark margaret donald ashley steven kimberly paul emily "
    "andrew donna joshua michelle kenneth carol kevin amanda brian melissa george deborah "
    "timothy stephanie ronald rebecca jason sharon edward laura jeffrey cynthia ryan amy "
    "jacob kathleen gary angela nicholas shirley eric brenda jonathan emma stephen anna larry "
    "pamela justin nicole scott samantha brandon katherine benjamin christine samuel helen "
    "gregory debra alexander rachel patrick carolyn frank janet raymond maria jack olivia "
    "dennis heather jerry catherine tyler diane aaron julie jose victoria adam joyce nathan "
    "lauren henry kelly zachary christina douglas joan peter evelyn kyle judith noah megan "
    "ethan andrea jeremy cheryl walter hannah christian jacqueline keith martha roger gloria "
    "terry teresa austin sara sean janice gerald marie carl julia harold grace dylan judy "
    "arthur theresa lawrence madison jordan beverly jesse denise bryan marilyn billy amber "
    "bruce danielle gabriel abigail joe brittany logan rose albert diana willie natalie alan "
    "sophia vincent alexis eugene lori russell kayla elijah jane randy priya wei mei hiroshi "
    "yuki carlos sofia luis camila diego valentina mateo lucia omar fatima ahmed aisha raj "
    "ananya kwame amara chen lin"
)
FIRST_NAMES = tuple(_FIRST_NAMES.split())

_LAST_NAMES = (
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez "
    "lopez gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson "
    "white harris sanchez clark ramirez lewis robinson walker young allen king wright scott "
    "torres nguyen hill flores green adams nelson baker hall rivera campbell mitchell carter "
    "roberts gomez phillips evans turner diaz parker cruz edwards collins reyes stewart "
    "morris morales murphy cook rogers gutierrez ortiz morgan cooper peterson bailey reed "
    "kelly howard ramos kim cox ward richardson watson brooks chavez wood james bennett gray "
    "mendoza ruiz hughes price alvarez castillo sanders patel myers long ross foster jimenez "
    "powell jenkins perry russell sullivan bell coleman butler henderson barnes gonzales "
    "fisher vasquez simmons romero jordan patterson alexander hamilton graham reynolds "
    "griffin wallace moreno west cole hayes bryant herrera gibson ellis tran medina aguilar "
    "stevens murray ford castro marshall owens harrison fernandez mcdonald woods washington "
    "kennedy wells vargas henry chen freeman webb tucker guzman burns crawford olson simpson "
    "porter hunter gordon mendez silva shaw snyder mason dixon munoz hunt hicks holmes palmer "
    "wagner black robertson boyd rose stone salazar fox warren mills meyer rice schmidt garza "
    "daniels ferguson nichols stephens soto weaver ryan gardner payne grant dunn kelley "
    "spencer hawkins arnold pierce hansen peters santos hart bradley knight elliott "
    "cunningham duncan armstrong hudson carroll lane riley andrews ruiz okafor nakamura "
    "tanaka singh kumar shah wang zhang liu yamamoto novak kowalski muller"
)
LAST_NAMES = tuple(_LAST_NAMES.split())

# (city, state/province, country, timezone, locale, area codes, weight)
CITIES = (
    ("New York", "NY", "US", "America/New_York", "en-US", (212, 347, 646, 718, 917), 9.0),
    ("Los Angeles", "CA", "US", "America/Los_Angeles", "en-US", (213, 310, 323, 424), 7.0),
    ("Chicago", "IL", "US", "America/Chicago", "en-US", (312, 773, 872), 5.0),
    ("Houston", "TX", "US", "America/Chicago", "en-US", (281, 346, 713, 832), 4.5),
    ("Phoenix", "AZ", "US", "America/Phoenix", "en-US", (480, 602, 623), 3.0),
    ("Philadelphia", "PA", "US", "America/New_York", "en-US", (215, 267, 445), 3.0),
    ("San Antonio", "TX", "US", "America/Chicago", "es-US", (210, 726), 2.5),
    ("San Diego", "CA", "US", "America/Los_Angeles", "en-US", (619, 858), 2.5),
    ("Dallas", "TX", "US", "America/Chicago", "en-US", (214, 469, 972), 2.5),
    ("Austin", "TX", "US", "America/Chicago", "en-US", (512, 737), 2.0),
    ("San Francisco", "CA", "US", "America/Los_Angeles", "en-US", (415, 628), 2.0),
    ("Seattle", "WA", "US", "America/Los_Angeles", "en-US", (206, 425), 2.0),
    ("Denver", "CO", "US", "America/Denver", "en-US", (303, 720), 1.8),
    ("Boston", "MA", "US", "America/New_York", "en-US", (617, 857), 1.8),
    ("Atlanta", "GA", "US", "America/New_York", "en-US", (404, 470, 678), 2.0),
    ("Miami", "FL", "US", "America/New_York", "es-US", (305, 786), 2.0),
    ("Minneapolis", "MN", "US", "America/Chicago", "en-US", (612, 763), 1.2),
    ("Portland", "OR", "US", "America/Los_Angeles", "en-US", (503, 971), 1.2),
    ("Nashville", "TN", "US", "America/Chicago", "en-US", (615, 629), 1.0),
    ("Detroit", "MI", "US", "America/Detroit", "en-US", (313,), 1.0),
    ("Salt Lake City", "UT", "US", "America/Denver", "en-US", (385, 801), 0.8),
    ("Honolulu", "HI", "US", "Pacific/Honolulu", "en-US", (808,), 0.4),
    ("Anchorage", "AK", "US", "America/Anchorage", "en-US", (907,), 0.2),
    ("Toronto", "ON", "CA", "America/Toronto", "en-CA", (416, 647, 437), 2.0),
    ("Vancouver", "BC", "CA", "America/Vancouver", "en-CA", (604, 778), 1.0),
    ("Montreal", "QC", "CA", "America/Toronto", "fr-CA", (514, 438), 1.0),
)

# sales tax in basis points by city (a rough blend of state and local rates)
CITY_TAX_BP = (
    887,
    950,
    1025,
    825,
    860,
    800,
    825,
    775,
    825,
    825,
    863,
    1025,
    881,
    625,
    890,
    700,
    803,
    0,
    925,
    600,
    775,
    450,
    0,
    1300,
    1200,
    1498,
)

EMAIL_DOMAINS = (
    ("gmail.com", 46.0),
    ("yahoo.com", 11.0),
    ("outlook.com", 8.0),
    ("hotmail.com", 6.0),
    ("icloud.com", 10.0),
    ("aol.com", 3.0),
    ("proton.me", 2.5),
    ("comcast.net", 3.0),
    ("me.com", 2.0),
    ("live.com", 2.0),
    ("msn.com", 1.5),
    ("att.net", 1.5),
    ("fastmail.com", 0.8),
    ("sbcglobal.net", 0.7),
    ("verizon.net", 0.7),
    ("bellsouth.net", 0.3),
)

JUNK_USER_IDS = ("null", "undefined", "0", "-1", "anonymous", "[object Object]", "")
JUNK_ANONYMOUS_IDS = ("undefined",)
JUNK_EMAILS = ("test@test.com", "test@example.com", "noreply@example.com")


def weights(values: tuple[float, ...]) -> np.ndarray:
    w = np.asarray(values, dtype=np.float64)
    return w / w.sum()


@dataclass(frozen=True)
class PersonIdentifiers:
    """The canonical identifiers of a chunk's people (object arrays, one entry per person)."""

    person_id: np.ndarray
    first_name: np.ndarray
    last_name: np.ndarray
    email: np.ndarray  # trimmed lower case
    email_variants: np.ndarray  # (len(EMAIL_VARIANT_P), n): how people and forms write it
    user_id: np.ndarray
    phone_e164: np.ndarray
    phone_variants: np.ndarray  # (len(PHONE_FORMATS), n)
    handle: np.ndarray  # with "@", as the platform shows it (may have capitals)


# how often each email spelling is used: as typed, Capitalised, UPPER, " lead", "trail ",
# " both "
EMAIL_VARIANT_P = weights((78.0, 9.0, 2.0, 4.0, 4.0, 3.0))
PHONE_FORMATS = 6


def _digits_needed(people: int) -> int:
    return max(4, len(str(people)) + 1)


def person_identifiers(rng: np.random.Generator, index: np.ndarray, people: int, city: np.ndarray) -> PersonIdentifiers:
    """Names and identifiers for the people ``index`` (global 0-based) of a population."""
    n = index.size
    width = max(7, len(str(people)))
    person_id = np.array([f"P{i + 1:0{width}d}" for i in index.tolist()], dtype=object)
    first = np.asarray(FIRST_NAMES, dtype=object)[rng.integers(0, len(FIRST_NAMES), n)]
    last = np.asarray(LAST_NAMES, dtype=object)[rng.integers(0, len(LAST_NAMES), n)]

    modulus = 10 ** _digits_needed(people)
    number = scramble(index, modulus, 7_919, 4_513).tolist()
    handle_number = scramble(index, modulus, 104_729, 2_287).tolist()
    domain = np.asarray([d for d, _ in EMAIL_DOMAINS], dtype=object)[
        rng.choice(len(EMAIL_DOMAINS), n, p=weights(tuple(w for _, w in EMAIL_DOMAINS)))
    ]
    pattern = rng.choice(4, n, p=[0.45, 0.2, 0.15, 0.2]).tolist()
    email = np.empty(n, dtype=object)
    for i, (f, la, num, dom, pat) in enumerate(
        zip(first.tolist(), last.tolist(), number, domain.tolist(), pattern, strict=True)
    ):
        local = (f"{f}.{la}", f"{f[0]}{la}", f"{f}_{la}", f)[pat]
        email[i] = f"{local}{num}@{dom}"
    variants = np.empty((EMAIL_VARIANT_P.size, n), dtype=object)
    variants[0] = email
    variants[1] = [e.title() for e in email.tolist()]
    variants[2] = [e.upper() for e in email.tolist()]
    variants[3] = [" " + e.title() for e in email.tolist()]
    variants[4] = [e + " " for e in email.tolist()]
    variants[5] = ["  " + e.title() + " " for e in email.tolist()]

    user_id = np.array(
        ["u_" + h for h in hex_of(scramble(index, 2**48, 0x9E3779B97F4B, 0x1F2E3D4C5B6A), 12)],
        dtype=object,
    )
    area = np.array(
        [
            CITIES[c][5][k % len(CITIES[c][5])]
            for c, k in zip(city.tolist(), rng.integers(0, 6, n).tolist(), strict=True)
        ]
    )
    subscriber = 2_000_000 + scramble(index, 8_000_000, 7_477, 3_331)
    phone_e164 = np.array([f"+1{a}{s}" for a, s in zip(area.tolist(), subscriber.tolist(), strict=True)], dtype=object)
    phone_variants = np.empty((PHONE_FORMATS, n), dtype=object)
    for i, (a, s) in enumerate(zip(area.tolist(), subscriber.tolist(), strict=True)):
        exch, line = divmod(s, 10_000)
        phone_variants[:, i] = (
            f"({a}) {exch}-{line:04d}",
            f"+1 {a}-{exch}-{line:04d}",
            f"{a}{exch}{line:04d}",
            f"{a}.{exch}.{line:04d}",
            f"+1{a}{exch}{line:04d}",
            f"1-{a}-{exch}-{line:04d}",
        )

    sep = rng.choice(3, n).tolist()
    camel = (rng.random(n) < 0.2).tolist()
    handle = np.empty(n, dtype=object)
    for i, (f, la, num, s, c) in enumerate(zip(first.tolist(), last.tolist(), handle_number, sep, camel, strict=True)):
        body = f"{f.capitalize()}{la.capitalize()}" if c else f"{f}{('_', '.', '')[s]}{la}"
        handle[i] = f"@{body}{num}"
    return PersonIdentifiers(
        person_id=person_id,
        first_name=np.array([f.capitalize() for f in first.tolist()], dtype=object),
        last_name=np.array([la.capitalize() for la in last.tolist()], dtype=object),
        email=email,
        email_variants=variants,
        user_id=user_id,
        phone_e164=phone_e164,
        phone_variants=phone_variants,
        handle=handle,
    )


def pick_email_variant(rng: np.random.Generator, persons: np.ndarray, ids: PersonIdentifiers) -> np.ndarray:
    """One spelling per appearance of the persons' emails (mostly as typed, sometimes not)."""
    kind = rng.choice(EMAIL_VARIANT_P.size, persons.size, p=EMAIL_VARIANT_P)
    return ids.email_variants[kind, persons]


def pick_phone_variant(rng: np.random.Generator, persons: np.ndarray, ids: PersonIdentifiers) -> np.ndarray:
    kind = rng.integers(0, PHONE_FORMATS, persons.size)
    return ids.phone_variants[kind, persons]

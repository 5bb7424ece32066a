"""``audience eval identity``: the identity map against the generator's ground truth.

Besides pairwise precision and recall, it reports an **honest ceiling**, computed from the raw
records and the truth alone, independent of the extractor (the dbt identity models) and of the
resolver's normalisation: every string or number anywhere in a raw record (any JSON field, any
CSV column) is matched against the truth's identifiers, as the truth writes them
(``identifiers.csv``), as the generator wrote them (``raw_forms.csv``, if present), and for
phones by their digits (E.164 digits, the national number, with a trunk ``0`` or an ``00``
prefix); a social record's values are also tried as ``platform:value``. Two identifiers of one
person found in one record are a proven link. ``recall_ceiling`` is the recall of the best
clustering those links allow; ``recall_provable`` the map's recall against it. A link the
extractor misses therefore lowers ``recall_provable``, never the ceiling.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import phonenumbers

from audience_dagster.config import load_settings
from audience_dagster.errors import ConfigError
from audience_dagster.identity.evaluate import evaluate_identity_map, provable_clusters
from audience_dagster.identity.identity_map import read_identity_map
from audience_dagster.identity.junk import clean_text
from audience_dagster.warehouse.connection import connection, resolve_warehouse
from audience_dagster.warehouse.frames import copy_out

_TRIM = " \t\n\r\u00a0\u2007\u202f\u200b\ufeff"
# every string / number leaf of every raw record, as (record, key) with the keys the truth uses
RAW_LEAVES_SQL = f"""
WITH leaves AS (
    SELECT 'segment:' || message_id AS record, NULL::text AS platform, leaf
    FROM raw.segment_messages, LATERAL jsonb_path_query(payload, 'strict $.**') AS j(v),
         LATERAL (SELECT v #>> '{{}}' AS leaf) AS l
    WHERE jsonb_typeof(v) IN ('string', 'number')
    UNION ALL
    SELECT 'sendgrid:' || sg_event_id, NULL, v #>> '{{}}'
    FROM raw.sendgrid_events, LATERAL jsonb_path_query(payload, 'strict $.**') AS j(v)
    WHERE jsonb_typeof(v) IN ('string', 'number')
    UNION ALL
    SELECT 'shopify:' || order_id, NULL, v #>> '{{}}'
    FROM raw.shopify_orders, LATERAL jsonb_path_query(payload, 'strict $.**') AS j(v)
    WHERE jsonb_typeof(v) IN ('string', 'number')
    UNION ALL
    SELECT 'social:' || event_id, lower(platform), v #>> '{{}}'
    FROM raw.social_events, LATERAL jsonb_path_query(payload, 'strict $.**') AS j(v)
    WHERE jsonb_typeof(v) IN ('string', 'number')
    UNION ALL
    SELECT 'csv:' || order_key, NULL, leaf
    FROM raw.historical_orders, LATERAL (VALUES (order_id), (customer_id), (email)) AS c(leaf)
    WHERE leaf IS NOT NULL
),
keys AS (
    SELECT record, lower(btrim(leaf, '{_TRIM}')) AS key FROM leaves
    UNION ALL
    SELECT record, platform || ':' || lower(ltrim(btrim(leaf, '{_TRIM}'), '@')) FROM leaves WHERE platform IS NOT NULL
    UNION ALL
    SELECT record, 'digits:' || regexp_replace(leaf, '\\D', '', 'g') FROM leaves
    WHERE leaf ~ '^\\s*\\+?[0-9(][0-9\\s().\\-/]{{5,}}\\s*$'
)
SELECT DISTINCT keys.record, truth_keys.identifier
FROM keys JOIN truth_keys ON truth_keys.key = keys.key
"""


def truth_keys(truth: pd.Series, raw_forms: pd.DataFrame | None) -> pd.DataFrame:
    """(key, identifier, person) for every way a truth identifier may be written; keys that
    would name two people are left out."""
    rows = []
    for identifier in truth.index:
        kind, _, value = identifier.partition(":")
        rows.append((clean_text(value), identifier))
        if kind == "phone" and value.startswith("+"):
            rows += [(f"digits:{d}", identifier) for d in _phone_digit_forms(value)]
    if raw_forms is not None and len(raw_forms):
        ident = raw_forms["identifier_type"] + ":" + raw_forms["identifier_value"]
        rows += [(clean_text(r), i) for r, i in zip(raw_forms["raw_value"], ident, strict=True)]
    keys = pd.DataFrame(rows, columns=["key", "identifier"]).drop_duplicates()
    keys = keys[keys["identifier"].isin(truth.index) & (keys["key"] != "")]
    keys = keys.assign(person=truth.reindex(keys["identifier"]).to_numpy())
    owners = keys.groupby("key")["person"].nunique()
    return keys[keys["key"].map(owners).eq(1).to_numpy()]


def _phone_digit_forms(e164: str) -> list[str]:
    digits = e164[1:]
    forms = [digits, "00" + digits]
    try:
        national = str(phonenumbers.parse(e164).national_number)
        forms += [national, "0" + national]
    except phonenumbers.NumberParseException:
        pass
    return forms


def record_links(conn, keys: pd.DataFrame) -> tuple[pd.Index, pd.Index]:
    """Pairs of truth identifiers found in one raw record (each linked to the record's first)."""
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE truth_keys (key text, identifier text) ON COMMIT DROP")
        buffer = io.StringIO()
        keys[["key", "identifier"]].to_csv(buffer, index=False, header=False)
        buffer.seek(0)
        cur.copy_expert("COPY truth_keys FROM STDIN WITH (FORMAT csv)", buffer)
        cur.execute("CREATE INDEX ON truth_keys (key); ANALYZE truth_keys")
        found = copy_out(conn, RAW_LEAVES_SQL)
    conn.rollback()
    # within a record, each person's identifiers are linked to that person's first one there
    person = keys.drop_duplicates("identifier").set_index("identifier")["person"]
    found["person"] = found["identifier"].map(person)
    first = found.groupby(["record", "person"])["identifier"].transform("first")
    return pd.Index(first.to_numpy()), pd.Index(found["identifier"].to_numpy())


def evaluate_identity(sample: Path | None = None) -> dict[str, float]:
    """Pairwise precision / recall of ``identity.identity_map`` against ``truth/identifiers.csv``,
    with the honest ceiling from the raw records (see the module docstring)."""
    settings = load_settings()
    truth_dir = (sample or settings.sample_dir) / "truth"
    truth_file = truth_dir / "identifiers.csv"
    if not truth_file.exists():
        raise ConfigError(f"no ground truth at {truth_file}: run `audience demo` (or pass --sample <folder>)")
    truth = pd.read_csv(truth_file, dtype=str, keep_default_na=False)
    forms_file = truth_dir / "raw_forms.csv"
    raw_forms = pd.read_csv(forms_file, dtype=str, keep_default_na=False) if forms_file.exists() else None
    owners = truth.groupby(["identifier_type", "identifier_value"])["person_id"].transform("nunique")
    single = truth[owners == 1].drop_duplicates(["identifier_type", "identifier_value"])
    truth_series = pd.Series(
        single["person_id"].to_numpy(), index=single["identifier_type"] + ":" + single["identifier_value"]
    )
    with connection(resolve_warehouse(settings).url) as conn:
        frame = read_identity_map(conn)
        left, right = record_links(conn, truth_keys(truth_series, raw_forms))
    figures = evaluate_identity_map(frame, truth, (left, right))
    provable = provable_clusters(truth_series, left, right)
    figures["people_split"] = float(_people_split(frame, provable))
    return figures


def _people_split(identity_map: pd.DataFrame, provable: pd.Series) -> int:
    """Provable clusters (what one person's records prove) spread over more than one profile."""
    keys = identity_map["identifier_type"] + ":" + identity_map["identifier_value"]
    profile = pd.Series(identity_map["profile_id"].to_numpy(dtype=object), index=keys)
    joined = pd.DataFrame({"cluster": provable.to_numpy(), "profile": profile.reindex(provable.index).to_numpy()})
    unlinked = pd.Series("unlinked:" + provable.index.to_numpy(dtype=str), index=joined.index)
    joined["profile"] = joined["profile"].where(joined["profile"].notna(), unlinked)
    return int((joined.groupby("cluster")["profile"].nunique() > 1).sum())

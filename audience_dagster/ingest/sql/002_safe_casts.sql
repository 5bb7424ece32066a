-- Safe casts for set-based validation: NULL instead of an error, so one bad record can be
-- quarantined without aborting the statement that loads a whole file. Single-SELECT SQL
-- functions whose declared volatility matches their body (STABLE: pg_input_is_valid and the
-- timestamptz cast are STABLE), so the planner inlines them; a mismatch costs ~20 µs a call. Needs PostgreSQL 16+ (pg_input_is_valid).

-- Validating as `json` only lexes (1 µs for a 600-byte message) where a `jsonb` check would
-- build the whole value (3 µs), so text is parsed into jsonb once. What `json` accepts and
-- `jsonb` rejects — \u escapes jsonb cannot store (\u0000, a lone surrogate such as \ud800) and
-- numbers numeric cannot hold (1e999999) — makes the cast raise; looking for them first would
-- cost a scan of every record (3-5 µs, more than the parse), so instead the loader re-runs a
-- file whose fast statement raised with raw.try_jsonb_strict (see ingest/loader.py): the rare
-- hostile file pays twice, every other file pays nothing. Text nested deeper than
-- raw.json_depth_limit() is refused before any parser recurses into it.
CREATE OR REPLACE FUNCTION raw.json_depth_limit() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 5000 $$;

-- True when `value` opens more than `depth_limit` nested arrays/objects (strings skipped). Only
-- ever called for long text with that many brackets (see raw.json_too_deep): a loop per character.
CREATE OR REPLACE FUNCTION raw.json_nesting_exceeds(value text, depth_limit integer) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    depth integer := 0;
    in_string boolean := false;
    escaped boolean := false;
    ch text;
BEGIN
    FOREACH ch IN ARRAY regexp_split_to_array(value, '') LOOP
        IF in_string THEN
            IF escaped THEN escaped := false;
            ELSIF ch = '\' THEN escaped := true;
            ELSIF ch = '"' THEN in_string := false;
            END IF;
        ELSIF ch = '"' THEN in_string := true;
        ELSIF ch = '[' OR ch = '{' THEN
            depth := depth + 1;
            IF depth > depth_limit THEN RETURN true; END IF;
        ELSIF ch = ']' OR ch = '}' THEN depth := depth - 1;
        END IF;
    END LOOP;
    RETURN false;
END
$$;

-- Could parsing `value` recurse deeper than the limit (PostgreSQL's parser overflows its stack
-- past ~10,000 levels)? Nesting N levels takes N opening brackets, so text no longer than the
-- limit (every normal record) is answered by its length alone, at no cost.
CREATE OR REPLACE FUNCTION raw.json_too_deep(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT octet_length(value) > raw.json_depth_limit()
       AND octet_length(value) - octet_length(replace(replace(value, '[', ''), '{', '')) > raw.json_depth_limit()
       AND raw.json_nesting_exceeds(value, raw.json_depth_limit())
$$;

CREATE OR REPLACE FUNCTION raw.try_jsonb(value text) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN raw.json_too_deep(value) THEN NULL
        WHEN pg_input_is_valid(value, 'json') THEN value::jsonb
    END
$$;

-- The same, with the full jsonb check for every record: never raises, 3x the cost.
CREATE OR REPLACE FUNCTION raw.try_jsonb_strict(value text) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN raw.json_too_deep(value) THEN NULL
        WHEN pg_input_is_valid(value, 'jsonb') THEN value::jsonb
    END
$$;

-- Why `value` is not JSON, for the quarantine reason (only called for records that are not).
CREATE OR REPLACE FUNCTION raw.json_problem(value text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN raw.json_too_deep(value) THEN 'invalid JSON: nested deeper than ' || raw.json_depth_limit() || ' levels'
        ELSE (
            SELECT 'invalid JSON' || coalesce(': ' || coalesce(e.detail, e.message), '')
            FROM pg_input_error_info(value, 'jsonb') AS e
        )
    END
$$;

-- ISO-8601 dates and date-times ('2026-01-05', '2026-01-05T09:12:44.123Z',
-- '2026-01-05 09:12:44-05:00'). The shape checks (LIKE and byte tests: a regex or a collated
-- comparison costs 2-7x more at 25M rows) reject PostgreSQL's special words ('now', 'today',
-- 'epoch', 'infinity'), 'allballs' (its word for midnight), a leap second (':60', which
-- PostgreSQL rolls into the next minute) and the locale-dependent forms ('1/2/26') the lenient
-- timestamptz parser would otherwise guess at. Zone-less values are UTC (the loader's session
-- runs in UTC). Range checks are the caller's (raw.timestamp_in_range: eras such as 'BC' fail it).
CREATE OR REPLACE FUNCTION raw.try_timestamptz(value text) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN value LIKE '____-__-__%' AND ascii(value) BETWEEN 48 AND 57
         AND octet_length(value) <= 40
         AND value NOT LIKE '%:6%'
         AND value NOT LIKE '%allballs%' AND value NOT LIKE '%ALLBALLS%'
         AND pg_input_is_valid(value, 'timestamptz')
        THEN value::timestamptz
    END
$$;

-- The time range an event, order or engagement may have: from the UNIX epoch to year 2200.
-- Anything outside is a broken clock or a placeholder ('0001-01-01', '9999-12-31').
CREATE OR REPLACE FUNCTION raw.timestamp_in_range(value timestamptz) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT value >= '1970-01-01 00:00:00+00'::timestamptz AND value < '2200-01-01 00:00:00+00'::timestamptz
$$;

-- A JSON number or numeric string ("87.20", " 5 ", "1e3") as numeric, read as a numeric cast
-- reads it (4x cheaper than a regex); NULL for anything else — never an overflow: text longer
-- than 64 bytes, or an exponent numeric cannot hold (1e999999), is NULL. 'NaN' and 'Infinity'
-- are numeric values: callers' range checks (BETWEEN) reject them.
CREATE OR REPLACE FUNCTION raw.try_numeric(value text) RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN octet_length(value) <= 64 AND pg_input_is_valid(value, 'numeric') THEN value::numeric END
$$;

-- A whole number as bigint reads it (what staging's casts accept); NULL otherwise.
CREATE OR REPLACE FUNCTION raw.try_bigint(value text) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN octet_length(value) <= 64 AND pg_input_is_valid(value, 'bigint') THEN value::bigint END
$$;

-- The key that keeps a re-delivered bad record from being quarantined twice.
CREATE OR REPLACE FUNCTION raw.record_sha256(record text) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT sha256(convert_to(coalesce(record, ''), 'UTF8'))
$$;

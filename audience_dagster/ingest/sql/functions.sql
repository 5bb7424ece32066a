-- Safe casts for set-based validation: NULL instead of an error, so one bad record can be
-- quarantined without aborting the statement that loads a whole file. Single-SELECT SQL
-- functions whose declared volatility matches their body (STABLE: pg_input_is_valid and the
-- timestamptz cast are STABLE), so the planner inlines them; a mismatch costs ~20 µs a call. Needs PostgreSQL 16+ (pg_input_is_valid).

-- Validating as `json` only lexes (1 µs for a 600-byte message) where a `jsonb` check would
-- build the whole value (3 µs), so text is parsed into jsonb once. The one thing `json` accepts
-- and `jsonb` rejects is the \u0000 escape: such text takes the full jsonb check.
CREATE OR REPLACE FUNCTION raw.try_jsonb(value text) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN strpos(value, '\u0000') > 0 THEN
            CASE WHEN pg_input_is_valid(value, 'jsonb') THEN value::jsonb END
        WHEN pg_input_is_valid(value, 'json') THEN value::jsonb
    END
$$;

-- ISO-8601 dates and date-times ('2026-01-05', '2026-01-05T09:12:44.123Z',
-- '2026-01-05 09:12:44-05:00'). The shape check (cheaper than a regex at 25M rows) rejects
-- PostgreSQL's special words ('now', 'today', 'epoch', 'infinity') and the locale-dependent
-- forms ('1/2/26') the lenient timestamptz parser would otherwise guess at. Zone-less values
-- are UTC (the loader's session runs in UTC).
CREATE OR REPLACE FUNCTION raw.try_timestamptz(value text) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN value LIKE '____-__-__%' AND left(value, 1) BETWEEN '0' AND '9'
         AND pg_input_is_valid(value, 'timestamptz')
        THEN value::timestamptz
    END
$$;

-- A JSON number or numeric string ("87.20") as numeric; NULL for anything else.
CREATE OR REPLACE FUNCTION raw.try_numeric(value text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN value ~ '^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$' THEN value::numeric
    END
$$;

-- A whole number that fits bigint; NULL otherwise.
CREATE OR REPLACE FUNCTION raw.try_bigint(value text) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN value ~ '^\s*[+-]?\d{1,19}\s*$' AND pg_input_is_valid(value, 'bigint')
        THEN value::bigint END
$$;

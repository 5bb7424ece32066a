-- Identifier normalisation and hashing shared by erasure (audience_dagster/privacy) and
-- ingest-time suppression, so both hash a value the same way (version 2: idempotent).

-- A phone number as E.164, as identity resolution stores it (identity/normalize.py,
-- default country code 1); NULL when implausible.
CREATE OR REPLACE FUNCTION privacy.normalize_phone(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN btrim(value) !~ '^\+?[0-9\s().\-/]+$' THEN NULL
        WHEN left(btrim(value), 1) = '+' THEN
            CASE WHEN length(regexp_replace(value, '\D', '', 'g')) BETWEEN 8 AND 15
                 THEN '+' || regexp_replace(value, '\D', '', 'g') END
        WHEN length(regexp_replace(value, '\D', '', 'g')) = 10 THEN '+1' || regexp_replace(value, '\D', '', 'g')
        WHEN regexp_replace(value, '\D', '', 'g') ~ '^1\d{10}$' THEN '+' || regexp_replace(value, '\D', '', 'g')
    END
$$;

-- An identifier value as the identity map stores it: emails and social handles
-- ('platform:handle') trimmed and lower-cased, phones E.164, everything else trimmed; '' is NULL.
CREATE OR REPLACE FUNCTION privacy.normalize_identifier(identifier_type text, value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(CASE identifier_type
        WHEN 'email' THEN lower(btrim(value))
        WHEN 'social_handle' THEN lower(btrim(value))
        WHEN 'phone' THEN privacy.normalize_phone(value)
        ELSE btrim(value)
    END, '')
$$;

-- sha256 of the normalised value (UTF-8): what privacy.suppressed_identifiers holds.
CREATE OR REPLACE FUNCTION privacy.identifier_sha256(identifier_type text, value text) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT sha256(convert_to(privacy.normalize_identifier(identifier_type, value), 'UTF8'))
$$;

-- True when a record's raw text holds a suppressed value: used only for records that would be
-- quarantined (their fields could not be read), so an erased person's malformed record is not
-- stored either. Tokens are hashed as written and lower-cased (any identifier type).
CREATE OR REPLACE FUNCTION privacy.mentions_suppressed(record text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT EXISTS (
        SELECT 1
        FROM regexp_split_to_table(record, '[\s"'',;:{}\[\]()<>=\\]+') AS token
        JOIN privacy.suppressed_identifiers AS s
          ON s.value_sha256 IN (sha256(convert_to(token, 'UTF8')), sha256(convert_to(lower(token), 'UTF8')))
        WHERE token <> ''
    )
$$;

-- Segment consent preferences that refuse every category ({"Advertising": false, …}).
CREATE OR REPLACE FUNCTION privacy.refuses_every_category(preferences jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN jsonb_typeof(preferences) = 'object' AND preferences <> '{}'::jsonb THEN NOT EXISTS (
            SELECT 1 FROM jsonb_each(preferences) AS category
            WHERE category.value NOT IN ('false'::jsonb, '0'::jsonb, '"false"'::jsonb)
        )
        ELSE false
    END
$$;

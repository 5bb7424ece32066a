-- Write keys (per source: Segment SDKs, SendGrid and Shopify webhooks) and read keys (profile
-- API). A bearer token is never stored: only the sha256 of the random token (32 bytes from
-- the OS; a fast hash suffices for a high-entropy secret, no password stretching needed).
-- Webhook keys hold what their provider's signature is checked with instead: SendGrid's
-- public verification key, or the Shopify app's shared secret (needed in clear to compute the
-- HMAC; keep the database's access as tight as the secret deserves).
CREATE TABLE IF NOT EXISTS collector.api_keys (
    key_id           text PRIMARY KEY,
    kind             text        NOT NULL CHECK (kind IN ('write', 'read')),
    source           text        CHECK (source IN ('segment', 'sendgrid', 'shopify')),
    name             text        NOT NULL,
    token_sha256     bytea       UNIQUE,
    signing_secret   text,
    verification_key text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    revoked_at       timestamptz,
    CHECK ((kind = 'read') = (source IS NULL)),
    CHECK (token_sha256 IS NOT NULL OR signing_secret IS NOT NULL OR verification_key IS NOT NULL)
)

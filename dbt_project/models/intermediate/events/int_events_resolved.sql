-- Each event's profile, looked up in the identity map by the identifiers it carries, in
-- priority order: user_id, email, shopify_customer_id, email_provider_id, social_handle,
-- shopify_order_id, anonymous_id, device_id. The first identifier with a profile decides;
-- blocked (junk) identifiers have none and fall through.
--
-- Anonymous history needs no back-filling: once a visitor identifies, identity resolution
-- puts their anonymous_id into the person's profile, so every event on that anonymous_id,
-- before the identify as well as after, resolves to the person (the spec's identifyUser).
-- Events whose deciding profile is erased are dropped.
-- (The SQL is the macro resolve_events, macros/event_pipeline.sql, shared with the incremental
-- build of audience_events.)

{{ resolve_events(ref('int_events_unioned'), ref('int_identifiers_resolved')) }}

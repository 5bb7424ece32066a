-- Do-not-track: a 'Segment Consent Preference Updated' that refuses every category opts the
-- person out of tracking until their next consent update (if any). Behavioural events in
-- such a window are dropped: web/app calls, email opens and clicks, social engagements.
-- Kept: the consent events themselves, orders, and email deliveries, bounces and opt-outs
-- (records of what was sent and agreed, not tracking).
--
-- The person is the resolved profile, or, for a visitor identity resolution does not know,
-- the (non-blocked) anonymous id.
-- (The SQL is the macro consent_events, macros/event_pipeline.sql.)

{{ consent_events(ref('int_events_resolved'), ref('int_events_resolved')) }}

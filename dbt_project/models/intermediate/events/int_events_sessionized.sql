-- Sessions for website and app events (Segment), which carry no session id: the events of
-- one actor (the anonymous id; else the app's device id; else the user id; blocked junk ids
-- never count) ordered by time, and a new session starts after 30 minutes without an event.
-- session_id is an md5 uuid of (actor, session start), so rebuilds keep it;
-- session_sequence numbers the events within their session from 1. Email, order and social
-- events have no session. One sort per actor, no self-joins. The helper columns
-- (previous_occurred_at, actor_event_number, starts_session, session_first_number) stay for
-- inspection and tests.
-- (The SQL is the macro sessionize_events, macros/event_pipeline.sql.)

{{ sessionize_events(ref('int_events_consented')) }}

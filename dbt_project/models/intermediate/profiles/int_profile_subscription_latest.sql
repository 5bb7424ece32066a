-- An incremental table, one row per profile with an explicit email subscription signal (an
-- increment recomputes the profiles whose events changed: macros/profile_changes.sql): the
-- latest signal wins.
-- Subscribes: Segment 'Email Subscribed', SendGrid group_resubscribe; unsubscribes: SendGrid
-- unsubscribe, group_unsubscribe, spamreport, Segment 'Email Unsubscribed'. (Without any, the
-- profile mart counts a delivered marketing campaign as subscribed since then.)
{{ config(**profile_table_config()) }}

with

latest_signal as (
    {{ first_row_per_group(
        'profile_id', 'occurred_at desc, id',
        "profile_id, occurred_at, event_type in ('email_subscribed', 'email_group_resubscribe') as subscribes",
        profile_events(),
        "event_type in ('email_subscribed', 'email_group_resubscribe', 'email_unsubscribe',"
        ~ " 'email_group_unsubscribe', 'email_spamreport', 'email_unsubscribed') and profile_id is not null"
    ) }}
)

select * from latest_signal

{#-
    Profiles whose events changed (docs/incremental.md §4). audience_events, built
    incrementally, logs every profile one of its rows moved into, out of or within (the old
    row and the new one compared, column by column) under a new *generation* number; a full
    build logs a marker (profile_id null): every profile changed. The per-profile tables
    over audience_events (int_profile_*) are consumers: each records the generation it has
    read up to, and an incremental build recomputes only the profiles logged after it.

        {{ config(**profile_table_config()) }}
        ... from {{ profile_events() }} where ...

      intermediate.audience_events_profile_changes    (generation, profile_id)
      intermediate.audience_events_profile_consumers  (model, generation)

    A consumer is rebuilt in full when it has no row in the consumers table (new table,
    --full-refresh, first build after this change) or when a full build of audience_events
    came after the generation it read (the marker). Rows every consumer has read are pruned.
-#}

{% macro profile_change_relations() -%}
    {%- set schema = generate_schema_name('intermediate', none) -%}
    {{ return({
        'log': api.Relation.create(database=target.database, schema=schema, identifier='audience_events_profile_changes'),
        'consumers': api.Relation.create(database=target.database, schema=schema, identifier='audience_events_profile_consumers'),
    }) }}
{%- endmacro %}

{% macro ensure_profile_change_tables() -%}
    {{ return(adapter.dispatch('ensure_profile_change_tables', 'audience')()) }}
{%- endmacro %}
{% macro default__ensure_profile_change_tables() %}{{ engine_not_supported('ensure_profile_change_tables') }}{% endmacro %}
{% macro postgres__ensure_profile_change_tables() -%}
    {%- set relations = profile_change_relations() -%}
    create schema if not exists {{ relations.log.schema }};
    create table if not exists {{ relations.log }} (generation bigint not null, profile_id uuid);
    create index if not exists audience_events_profile_changes_generation on {{ relations.log }} (generation);
    create table if not exists {{ relations.consumers }} (model text primary key, generation bigint not null)
{%- endmacro %}

{#- Called by the partitioned_table materialization of a model configured
    `profile_change_log=true`, inside its transaction: after an incremental build has written
    its rows (`diff_relation` holds the rows that differed: `_old_profile_id` of the row
    replaced, `profile_id` of the row written; either null when there is none), or after a
    full build's swap (`diff_relation` none: the marker). -#}
{% macro record_profile_changes(diff_relation) -%}
    {{ return(adapter.dispatch('record_profile_changes', 'audience')(diff_relation)) }}
{%- endmacro %}
{% macro default__record_profile_changes(diff_relation) %}{{ engine_not_supported('record_profile_changes') }}{% endmacro %}
{% macro postgres__record_profile_changes(diff_relation) -%}
    {%- set relations = profile_change_relations() -%}
    {%- set next_generation -%}
        (select greatest(
            coalesce((select max(generation) from {{ relations.log }}), 0),
            coalesce((select max(generation) from {{ relations.consumers }}), 0)
        ) + 1)
    {%- endset -%}
    {{ ensure_profile_change_tables() }};
    {%- if diff_relation is none %}
    insert into {{ relations.log }} (generation, profile_id) select {{ next_generation }}, null;
    delete from {{ relations.log }} where generation < (select max(generation) from {{ relations.log }})
    {%- else %}
    insert into {{ relations.log }} (generation, profile_id)
    with profiles as (
        select _old_profile_id as profile_id from {{ diff_relation }} where _old_profile_id is not null
        union
        select profile_id from {{ diff_relation }} where profile_id is not null
    )
    select {{ next_generation }}, profile_id from profiles;
    analyze {{ relations.log }};
    delete from {{ relations.log }}
    where generation <= (select min(generation) from {{ relations.consumers }})
      and generation < (select max(generation) from {{ relations.log }})
    {%- endif %}
{%- endmacro %}

{#- The config of a per-profile table over audience_events (a consumer of the log). -#}
{% macro profile_table_config() -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'profile_replace',
        'unique_key': 'profile_id',
        'on_schema_change': 'fail',
        'indexes': [{'columns': ['profile_id'], 'unique': true}],
        'post_hook': ["{{ record_profile_consumer() }}"],
    }) }}
{%- endmacro %}

{#- This consumer's position, read when it builds: {'consumed', 'latest', 'stale'}. -#}
{% macro profile_consumer_state() -%}
    {%- set relations = profile_change_relations() -%}
    {%- if not execute or adapter.get_relation(relations.consumers.database, relations.consumers.schema, relations.consumers.identifier) is none -%}
        {{ return({'consumed': none, 'latest': 0, 'stale': true}) }}
    {%- endif -%}
    {%- set state_sql -%}
        select
            (select generation from {{ relations.consumers }} where model = '{{ this.schema }}.{{ this.identifier }}'),
            (select max(generation) from {{ relations.log }} where profile_id is null),
            (select max(generation) from {{ relations.log }})
    {%- endset -%}
    {%- set row = run_query(state_sql).rows | first -%}
    {%- set consumed, full_at, logged = row | list -%}
    {%- set latest = [logged or 0, consumed or 0] | max -%}
    {{ return({
        'consumed': consumed,
        'latest': latest,
        'stale': consumed is none or (full_at is not none and consumed < full_at),
    }) }}
{%- endmacro %}

{#- The profiles an incremental build of this consumer recomputes, as a predicate on
    profile_id; none when it builds in full (first build, --full-refresh, stale). -#}
{% macro changed_profiles_predicate() -%}
    {#-- `this` is none in a unit test (its input is the fixture: a full build) --#}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set state = profile_consumer_state() -%}
    {%- if state.stale -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(profile_logged_in(
        "generation > " ~ state.consumed ~ " and generation <= " ~ state.latest ~ " and profile_id is not null"
    )) }}
{%- endmacro %}

{#- `profile_id` is one of the log's rows matching `where`. -#}
{% macro profile_logged_in(where, column='profile_id') -%}
    {{ return(adapter.dispatch('profile_logged_in', 'audience')(where, column)) }}
{%- endmacro %}
{% macro default__profile_logged_in(where, column) -%}
    {{ column }} in (select profile_id from {{ profile_change_relations().log }} where {{ where }})
{%- endmacro %}
{#- = any(array(…)): the list is read once and each partition's profile_id index looks it up -#}
{% macro postgres__profile_logged_in(where, column) -%}
    {{ column }} = any(array(select distinct profile_id from {{ profile_change_relations().log }} where {{ where }}))
{%- endmacro %}

{#- audience_events as a consumer reads it: all of it in a full build, the changed profiles'
    events in an incremental one. -#}
{% macro profile_events() -%}
    {%- set events = ref('audience_events') -%}
    {%- set predicate = changed_profiles_predicate() -%}
    {%- if predicate -%}
        (select * from {{ events }} where {{ predicate }}) as changed_profile_events
    {%- else -%}
        {{ events }}
    {%- endif -%}
{%- endmacro %}

{#- incremental_strategy='profile_replace': the changed profiles' rows are deleted (also those
    of profiles that now have none) and the recomputed ones inserted; everything when the build
    is a full one through this path (a stale consumer). -#}
{% macro get_incremental_profile_replace_sql(arg_dict) -%}
    {{ return(adapter.dispatch('profile_replace_sql', 'audience')(arg_dict)) }}
{%- endmacro %}
{% macro default__profile_replace_sql(arg_dict) %}{{ engine_not_supported('profile_replace_sql') }}{% endmacro %}
{% macro postgres__profile_replace_sql(arg_dict) -%}
    {%- set predicate = changed_profiles_predicate() -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ arg_dict['target_relation'] }}{{ ' where ' ~ predicate if predicate }};
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{#- Post-hook of a consumer: the generation it has now read. -#}
{% macro record_profile_consumer() -%}
    {{ return(adapter.dispatch('record_profile_consumer', 'audience')()) }}
{%- endmacro %}
{% macro default__record_profile_consumer() %}{{ engine_not_supported('record_profile_consumer') }}{% endmacro %}
{% macro postgres__record_profile_consumer() -%}
    {%- set relations = profile_change_relations() -%}
    {{ ensure_profile_change_tables() }};
    insert into {{ relations.consumers }} (model, generation)
    values ('{{ this.schema }}.{{ this.identifier }}', (select coalesce(max(generation), 0) from {{ relations.log }}))
    on conflict (model) do update set generation = excluded.generation;
    analyze {{ this }}
{%- endmacro %}

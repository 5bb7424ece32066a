{#-
    The identity graph's tables, incremental (docs/incremental.md §6). int_identity_identifiers
    and int_identity_edges are aggregates (first seen, last seen, observations) over every
    staging row. A build reads only the staging rows loaded after the table's checkpoint and
    merges their aggregates into the stored rows of the same key; the raw JSON of a record is
    parsed once, when it lands.

        {{ config(**identity_graph_config(key_columns, nullable_key, retype)) }}
        ... from {{ ref('stg_...') }} where {{ identity_graph_window() }}

    The checkpoint is a table beside the model (`<model>_checkpoint`, one row): the largest
    load_seq the model has read, greatest so far. Not the table's own largest load_seq: an
    erasure that deletes the row holding it would move it back, and the rows in between would
    be counted twice. A build in full (the first, --full-refresh, no checkpoint) drops it in a
    pre-hook and its post-hook records the new one, in the transaction that wrote the rows.

    `retype`: an alias's previousId is typed user_id once the value is seen as a user id by
    any record, else anonymous_id. A later record can therefore change the type of rows built
    before: the model returns them under their new key (their aggregate moves whole, since
    those rows hold alias observations only) and the merge deletes the old key
    (`retype.condition` names the rows; `retype.type` / `retype.value` their typed column pair).
-#}

{#- on_schema_change sync_all_columns: a table built before it had load_seq (or origin) gains
    the columns and is rebuilt in full (it has no checkpoint). -#}
{% macro identity_graph_config(key_columns, nullable_key, retype, lookup_columns) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'identity_merge',
        'unique_key': key_columns,
        'nullable_key': nullable_key,
        'retype': retype,
        'on_schema_change': 'sync_all_columns',
        'indexes': [{'columns': lookup_columns}, {'columns': ['load_seq']}],
        'pre_hook': ["{{ reset_identity_checkpoint() }}"],
        'post_hook': ["{{ record_identity_checkpoint() }}"],
    }) }}
{%- endmacro %}

{% macro identity_checkpoint_relation() -%}
    {{ return(api.Relation.create(database=this.database, schema=this.schema, identifier=this.identifier ~ '_checkpoint')) }}
{%- endmacro %}

{#- The checkpoint of an incremental build (a number); none when this build is a full one
    (first build, --full-refresh, no checkpoint or an empty one). -#}
{% macro identity_graph_watermark() -%}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set checkpoint = identity_checkpoint_relation() -%}
    {%- if adapter.get_relation(checkpoint.database, checkpoint.schema, checkpoint.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set largest = run_query('select max(load_seq) from ' ~ checkpoint).rows | first | first -%}
    {{ return(none if largest is none else largest | int) }}
{%- endmacro %}

{#- The staging rows this build reads: those past the checkpoint, or all in a full build. -#}
{% macro identity_graph_window(column='load_seq') -%}
    {%- set watermark = identity_graph_watermark() -%}
    {{- '1 = 1' if watermark is none else column ~ ' > ' ~ watermark -}}
{%- endmacro %}

{#- Pre-hook: a full build starts a new checkpoint (the raw sequence may have restarted). -#}
{% macro reset_identity_checkpoint() -%}
    {%- if identity_graph_watermark() is none -%}
        drop table if exists {{ identity_checkpoint_relation() }}
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: the checkpoint becomes the larger of itself and the table's largest load_seq
    (every row is stamped with the largest load_seq it aggregates). -#}
{% macro record_identity_checkpoint() -%}
    {{ return(adapter.dispatch('record_identity_checkpoint', 'audience')()) }}
{%- endmacro %}
{% macro default__record_identity_checkpoint() %}{{ engine_not_supported('record_identity_checkpoint') }}{% endmacro %}
{% macro postgres__record_identity_checkpoint() -%}
    {%- set checkpoint = identity_checkpoint_relation() -%}
    create table if not exists {{ checkpoint }} (load_seq bigint not null);
    insert into {{ checkpoint }} (load_seq)
    select max(load_seq) from (
        select max(load_seq) as load_seq from {{ this }}
        union all
        select max(load_seq) from {{ checkpoint }}
    ) as both_sides
    having max(load_seq) is not null;
    delete from {{ checkpoint }} where load_seq < (select max(load_seq) from {{ checkpoint }});
    analyze {{ this }}
{%- endmacro %}

{#- The key `columns` of `left` and `right` equal, the nullable one compared null-safely in a
    form a hash join can use. -#}
{% macro identity_key_matches(columns, nullable, left, right) -%}
    {%- for column in columns -%}
        {%- if column == nullable -%}
            coalesce({{ left }}.{{ column }}, '') = coalesce({{ right }}.{{ column }}, '')
        {%- else -%}
            {{ left }}.{{ column }} = {{ right }}.{{ column }}
        {%- endif -%}
        {{- ' and ' if not loop.last -}}
    {%- endfor -%}
{%- endmacro %}

{#- The end of the model's query, after its CTE `new_rows` (the aggregates of the rows read):
    in a full build those rows; in an incremental one the stored rows of their keys merged with
    them (earliest first seen, latest last seen, observations summed, the largest load_seq), one
    row per key, plus the stored rows config `retype` moves to user_id because `user_ids` (a
    query of values) now names them. The strategy below replaces those keys. -#}
{% macro identity_graph_result(user_ids) -%}
    {%- if identity_graph_watermark() is none %}
select * from new_rows
    {%- else -%}
    {%- set key_columns = config.get('unique_key') -%}
    {%- set retype = config.get('retype') -%}
    {%- set keys = key_columns | join(', ') -%}
    {%- set measures = 'first_seen_at, last_seen_at, observations, load_seq' -%}
,

-- rows typed anonymous_id before that a record read now shows to be a user id's
retyped as (
    select {% for column in key_columns -%}
        {{ "'user_id' as " ~ column if column == retype.type else column }}, {% endfor -%} {{ measures }}
    from {{ this }}
    where {{ retype.condition }} and {{ retype.type }} = 'anonymous_id' and {{ retype.value }} in ({{ user_ids }})
),

delta as (
    select {{ keys }}, {{ measures }} from new_rows
    union all
    select {{ keys }}, {{ measures }} from retyped
),

delta_keys as (
    select distinct {{ keys }} from delta
),

stored_rows as (
    select {% for column in key_columns %}stored.{{ column }}, {% endfor -%}
        stored.first_seen_at, stored.last_seen_at, stored.observations, stored.load_seq
    from {{ this }} as stored
    inner join delta_keys on {{ identity_key_matches(key_columns, config.get('nullable_key'), 'stored', 'delta_keys') }}
),

both_sides as (
    select {{ keys }}, {{ measures }} from delta
    union all
    select {{ keys }}, {{ measures }} from stored_rows
)

select
    {{ keys }},
    min(first_seen_at) as first_seen_at,
    max(last_seen_at) as last_seen_at,
    {{ cast_as('sum(observations)', 'bigint') }} as observations,
    max(load_seq) as load_seq
from both_sides
group by {{ keys }}
    {%- endif %}
{%- endmacro %}

{#- incremental_strategy='identity_merge': the result's keys replace the stored ones (matched
    null-safely on config `nullable_key`); a retyped row's old key is deleted (config
    `retype`); a full build replaces every row. -#}
{% macro get_incremental_identity_merge_sql(arg_dict) -%}
    {{ return(adapter.dispatch('identity_merge_sql', 'audience')(arg_dict)) }}
{%- endmacro %}
{% macro default__identity_merge_sql(arg_dict) %}{{ engine_not_supported('identity_merge_sql') }}{% endmacro %}
{% macro postgres__identity_merge_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set keys = config.get('unique_key') -%}
    {%- set retype = config.get('retype') -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- if identity_graph_watermark() is none -%}
    delete from {{ target }};
    {%- else -%}
    delete from {{ target }} as stored
    using (select distinct {{ keys | join(', ') }} from {{ source }}) as replaced
    where {{ identity_key_matches(keys, config.get('nullable_key'), 'stored', 'replaced') }};
    delete from {{ target }} as stored
    where {{ retype.condition }} and stored.{{ retype.type }} = 'anonymous_id'
      and stored.{{ retype.value }} in (
          select {{ retype.value }} from {{ source }} where {{ retype.condition }} and {{ retype.type }} = 'user_id'
      );
    {%- endif %}
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
{%- endmacro %}

{#-
    SQL that differs between engines, behind macros dispatched on the adapter (see
    engine_support.sql): regular expressions, times, arrays, "first row per group",
    deterministic ids and planner hints. JSON is in jsonb_helpers.sql, types and casts in
    safe_casts.sql.
-#}

{#- regular expressions (POSIX): `expression` matches `pattern` (ignore_case, negate) -#}
{% macro regex_matches(expression, pattern, ignore_case=false, negate=false) -%}
    {{ return(adapter.dispatch('regex_matches', 'audience')(expression, pattern, ignore_case, negate)) }}
{%- endmacro %}
{% macro default__regex_matches(expression, pattern, ignore_case, negate) %}{{ engine_not_supported('regex_matches') }}{% endmacro %}
{% macro postgres__regex_matches(expression, pattern, ignore_case, negate) -%}
    {{ expression }} {{ '!' if negate }}~{{ '*' if ignore_case }} '{{ pattern }}'
{%- endmacro %}

{#- the first capture group of `pattern` in `expression` (null when no match) -#}
{% macro regex_extract(expression, pattern) -%}
    {{ return(adapter.dispatch('regex_extract', 'audience')(expression, pattern)) }}
{%- endmacro %}
{% macro default__regex_extract(expression, pattern) %}{{ engine_not_supported('regex_extract') }}{% endmacro %}
{% macro postgres__regex_extract(expression, pattern) -%}
    substring({{ expression }} from '{{ pattern }}')
{%- endmacro %}

{#- every match of `pattern` replaced; `replacement` refers to groups as \1, \2 -#}
{% macro regex_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regex_replace_all', 'audience')(expression, pattern, replacement)) }}
{%- endmacro %}
{% macro default__regex_replace_all(expression, pattern, replacement) %}{{ engine_not_supported('regex_replace_all') }}{% endmacro %}
{% macro postgres__regex_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{#- times: a duration of `minutes` (to compare a difference of timestamps with) -#}
{% macro interval_minutes(minutes) -%}
    {{ return(adapter.dispatch('interval_minutes', 'audience')(minutes)) }}
{%- endmacro %}
{% macro default__interval_minutes(minutes) %}{{ engine_not_supported('interval_minutes') }}{% endmacro %}
{% macro postgres__interval_minutes(minutes) -%}
    interval '{{ minutes }} minutes'
{%- endmacro %}

{#- seconds since 1970-01-01 UTC of a timestamp (fractional) -#}
{% macro epoch_seconds(expression) -%}
    {{ return(adapter.dispatch('epoch_seconds', 'audience')(expression)) }}
{%- endmacro %}
{% macro default__epoch_seconds(expression) %}{{ engine_not_supported('epoch_seconds') }}{% endmacro %}
{% macro postgres__epoch_seconds(expression) -%}
    extract(epoch from {{ expression }})
{%- endmacro %}

{#- seconds from `start` to `end` (fractional; negative when end is earlier) -#}
{% macro seconds_between(start, end) -%}
    {{ return(adapter.dispatch('seconds_between', 'audience')(start, end)) }}
{%- endmacro %}
{% macro default__seconds_between(start, end) %}{{ engine_not_supported('seconds_between') }}{% endmacro %}
{% macro postgres__seconds_between(start, end) -%}
    extract(epoch from ({{ end }} - {{ start }}))
{%- endmacro %}

{#- arrays (of text): aggregate in `order_by` order (a FILTER clause may follow), the empty
    array, the first element -#}
{% macro array_agg_ordered(expression, order_by) -%}
    {{ return(adapter.dispatch('array_agg_ordered', 'audience')(expression, order_by)) }}
{%- endmacro %}
{% macro default__array_agg_ordered(expression, order_by) %}{{ engine_not_supported('array_agg_ordered') }}{% endmacro %}
{% macro postgres__array_agg_ordered(expression, order_by) -%}
    array_agg({{ expression }} order by {{ order_by }})
{%- endmacro %}

{% macro empty_text_array() -%}
    {{ return(adapter.dispatch('empty_text_array', 'audience')()) }}
{%- endmacro %}
{% macro default__empty_text_array() %}{{ engine_not_supported('empty_text_array') }}{% endmacro %}
{% macro postgres__empty_text_array() -%}
    '{}'
{%- endmacro %}

{% macro array_first(expression) -%}
    {{ return(adapter.dispatch('array_first', 'audience')(expression)) }}
{%- endmacro %}
{% macro default__array_first(expression) %}{{ engine_not_supported('array_first') }}{% endmacro %}
{% macro postgres__array_first(expression) -%}
    {{ expression }}[1]
{%- endmacro %}

{#- FROM-clause item: each row of the relations before it unpivoted into one row per
    (name, SQL expression) pair, as `alias.name` and `alias.value` -#}
{% macro unpivot_join(alias, pairs) -%}
    {{ return(adapter.dispatch('unpivot_join', 'audience')(alias, pairs)) }}
{%- endmacro %}
{% macro default__unpivot_join(alias, pairs) %}{{ engine_not_supported('unpivot_join') }}{% endmacro %}
{% macro postgres__unpivot_join(alias, pairs) -%}
    cross join lateral (
        values
        {%- for name, value in pairs.items() %}
            ('{{ name }}', {{ value }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as {{ alias }} (name, value)
{%- endmacro %}

{#- A whole query: per `partition_by`, the first row in `order_by` order.
        first_row_per_group('profile_id', 'occurred_at desc, id', 'profile_id, occurred_at',
                            ref('audience_events'), "event_type = 'x'")
    On PostgreSQL one sort and DISTINCT ON. -#}
{% macro first_row_per_group(partition_by, order_by, columns, relation, where=none) -%}
    {{ return(adapter.dispatch('first_row_per_group', 'audience')(partition_by, order_by, columns, relation, where)) }}
{%- endmacro %}
{% macro default__first_row_per_group(partition_by, order_by, columns, relation, where) %}{{ engine_not_supported('first_row_per_group') }}{% endmacro %}
{% macro postgres__first_row_per_group(partition_by, order_by, columns, relation, where) -%}
    select distinct on ({{ partition_by }})
        {{ columns }}
    from {{ relation }}
    {%- if where %}
    where {{ where }}
    {%- endif %}
    order by {{ partition_by }}, {{ order_by }}
{%- endmacro %}

{#- A stable uuid (as the engine's uuid type) from a text key: md5(key) read as a uuid (same
    key, same id, every build). -#}
{% macro deterministic_uuid(expression) -%}
    {{ return(adapter.dispatch('deterministic_uuid', 'audience')(expression)) }}
{%- endmacro %}
{% macro default__deterministic_uuid(expression) %}{{ engine_not_supported('deterministic_uuid') }}{% endmacro %}
{% macro postgres__deterministic_uuid(expression) -%}
    cast(md5({{ expression }}) as uuid)
{%- endmacro %}

{#- Planner hints. cte_inlined(): a CTE read several times is computed inline at every use
    (PostgreSQL's NOT MATERIALIZED: the planner keeps the tables' statistics); cte_computed_once():
    the opposite. Hints only: other engines may ignore them. -#}
{% macro cte_inlined() -%}
    {{ return(adapter.dispatch('cte_inlined', 'audience')()) }}
{%- endmacro %}
{% macro default__cte_inlined() %}{% endmacro %}
{% macro postgres__cte_inlined() %}not materialized{% endmacro %}

{% macro cte_computed_once() -%}
    {{ return(adapter.dispatch('cte_computed_once', 'audience')()) }}
{%- endmacro %}
{% macro default__cte_computed_once() %}{% endmacro %}
{% macro postgres__cte_computed_once() %}materialized{% endmacro %}

{#- pre_hook: joins of one-row-per-key relations by hashing, for this transaction (grouped views
    estimate 200 rows, and the planner would pick nested loops over thousands x thousands) -#}
{% macro prefer_hash_joins() -%}
    {{ return(adapter.dispatch('prefer_hash_joins', 'audience')()) }}
{%- endmacro %}
{% macro default__prefer_hash_joins() %}select 1{% endmacro %}
{% macro postgres__prefer_hash_joins() %}set local enable_nestloop = off{% endmacro %}

{#- Lookups of a few rows in a large relation (alias `events`) by values another query returns.
    select_where_value_in: `select <columns>` of the rows where `expression` equals a value of
    `values_query` (one column, each value once) and `condition` holds. select_where_key_in: the
    rows (`events.*`) whose source_system, source_record_id is a row of `keys` (each key once).
    Elsewhere a semi-join or join; on PostgreSQL one probe per value (a lateral subquery the
    planner keeps apart, OFFSET 0): over a union-all view an `in (...)` is a hashed filter on
    every row of every table, and `= any(array(...))` a linear one wherever it is not an index
    condition. Each table needs an index on `expression` (event_lookup_indexes). -#}
{% macro select_where_value_in(relation, columns, expression, values_query, condition='1 = 1') -%}
    {{ return(adapter.dispatch('select_where_value_in', 'audience')(relation, columns, expression, values_query, condition)) }}
{%- endmacro %}
{% macro default__select_where_value_in(relation, columns, expression, values_query, condition) -%}
    select {{ columns }} from {{ relation }} as events
    where {{ condition }} and {{ expression }} in ({{ values_query }})
{%- endmacro %}
{% macro postgres__select_where_value_in(relation, columns, expression, values_query, condition) -%}
    select found.*
    from ({{ values_query }}) as wanted (value)
    cross join lateral (
        select {{ columns }} from {{ relation }} as events
        where {{ condition }} and {{ expression }} = wanted.value
        offset 0
    ) as found
{%- endmacro %}

{% macro select_where_key_in(relation, keys) -%}
    {{ return(adapter.dispatch('select_where_key_in', 'audience')(relation, keys)) }}
{%- endmacro %}
{% macro default__select_where_key_in(relation, keys) -%}
    select events.* from {{ relation }} as events
    inner join {{ keys }} as keys
        on keys.source_system = events.source_system and keys.source_record_id = events.source_record_id
{%- endmacro %}
{% macro postgres__select_where_key_in(relation, keys) -%}
    select found.*
    from {{ keys }} as keys
    cross join lateral (
        select * from {{ relation }} as events
        where events.source_system = keys.source_system and events.source_record_id = keys.source_record_id
        offset 0
    ) as found
{%- endmacro %}

{#- post_hook: a btree index on each of `expressions` (SQL over the table's columns) the table
    lacks, under a name PostgreSQL picks. Matched by definition, not name: a table built before
    gains them at its next build, and a full refresh's new table gets its own while the old one
    (renamed, dropped after the hook) still holds its indexes. Elsewhere nothing. -#}
{% macro event_lookup_indexes(expressions) -%}
    {{ return(adapter.dispatch('event_lookup_indexes', 'audience')(expressions)) }}
{%- endmacro %}
{% macro default__event_lookup_indexes(expressions) %}select 1{% endmacro %}
{% macro postgres__event_lookup_indexes(expressions) -%}
    {%- set relation = this.include(database=false) -%}
do $$
declare
    expression text;
begin
    foreach expression in array array[{% for e in expressions %}'{{ e }}'{{ ', ' if not loop.last }}{% endfor %}] loop
        if not exists (
            select 1 from pg_index
            where indrelid = '{{ relation }}'::regclass
              and position(' USING btree (' || expression || ')' in pg_get_indexdef(indexrelid)) > 0
        ) then
            execute format('create index on %s (%s)', '{{ relation }}', expression);
        end if;
    end loop;
end
$$
{%- endmacro %}

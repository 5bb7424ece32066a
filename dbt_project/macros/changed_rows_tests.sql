{#-
    Data tests that check what changed (docs/incremental.md §5). Every data test of the
    project has `where: audience_changed_rows` (dbt_project.yml); this override of dbt's
    `get_where_subquery` turns it into a filter for the tests that judge each row alone
    (not_null, accepted_values, accepted_range, expression_is_true) in an incremental build:

      audience_events                      rows of the profiles its last build changed (the
                                           newest generation of the profile change log) and
                                           rows without a profile; every row after a full build
      a relation with a load_seq column    rows loaded after the last events checkpoint: the
      (staging views over the raw tables,  rows this refresh brought (a staging view's filter
      the typed events)                    reaches the raw table's load_seq index, so only the
                                           new records' JSON is parsed)

    A test with a filter of its own writes `where: "audience_changed_rows and <condition>"` to keep
    both. Every other test (unique, relationships, aggregates) and every test of a --full-refresh
    build reads the whole relation. Rows outside the filter were checked when they changed.
-#}

{#- default__: the root project's implementation comes before dbt's own for every adapter, so
    `where: audience_changed_rows` means the same on every engine (nothing in it is PostgreSQL's). -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set prefix = 'audience_changed_rows and ' -%}
    {%- if where == 'audience_changed_rows' -%}
        {%- set where = changed_rows_predicate(relation) -%}
    {%- elif where.startswith(prefix) -%}
        {#-- a test's own filter on top of the changed rows: `audience_changed_rows and <condition>` --#}
        {%- set changed = changed_rows_predicate(relation) -%}
        {%- set own = where[prefix | length:] -%}
        {%- set where = '(' ~ changed ~ ') and (' ~ own ~ ')' if changed else own -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{% macro row_local_tests() -%}
    {{ return(['not_null', 'accepted_values', 'accepted_range', 'expression_is_true']) }}
{%- endmacro %}

{#- The filter of `relation` for this test, or none (every row). -#}
{% macro changed_rows_predicate(relation) -%}
    {%- if not execute or flags.FULL_REFRESH or relation is none or relation.identifier is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set test_name = (model.get('test_metadata') or {}).get('name') -%}
    {%- if test_name not in row_local_tests() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if relation.identifier == 'audience_events' -%}
        {%- set newest = newest_profile_generation() -%}
        {%- if newest is none -%}
            {{ return(none) }}
        {%- endif -%}
        {#-- on PostgreSQL both arms use the profile_id index of every partition (a bitmap OR) --#}
        {{ return("(profile_id is null or " ~ profile_logged_in("generation = " ~ newest) ~ ")") }}
    {%- endif -%}
    {%- set checkpoint = events_checkpoint_relations()['load_seq'] -%}
    {%- if adapter.get_relation(checkpoint.database, checkpoint.schema, checkpoint.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
    {%- if 'load_seq' not in columns -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return("load_seq > " ~ largest_load_seq(checkpoint)) }}
{%- endmacro %}

{#- The newest generation of the profile change log when it names profiles (audience_events'
    last build was an incremental one); none when the log is missing, empty, or its newest
    generation is a full build's (a null profile_id). -#}
{% macro newest_profile_generation() -%}
    {%- set log = profile_change_relations().log -%}
    {%- if not execute or adapter.get_relation(log.database, log.schema, log.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set newest_sql -%}
        select max(generation), bool_or(profile_id is null) from {{ log }}
        where generation = (select max(generation) from {{ log }})
    {%- endset -%}
    {%- set newest = run_query(newest_sql).rows | first -%}
    {%- if (newest | first) is none or (newest | last) -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(newest | first) }}
{%- endmacro %}

{#- matches_aggregate in an incremental build: the profiles audience_events' last build changed,
    as a predicate on each of `columns` (profile ids), read from the log once; none (every key)
    otherwise. A key outside it has the events and the row it had when it was last checked. -#}
{% macro changed_profiles_key_predicates(columns) -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set newest = newest_profile_generation() -%}
    {%- if newest is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set predicates = [] -%}
    {%- for column in columns -%}
        {%- do predicates.append(profile_logged_in("generation = " ~ newest, column)) -%}
    {%- endfor -%}
    {{ return(predicates) }}
{%- endmacro %}

{#-
    A column of a model (one row per key) equals an aggregate of another relation grouped by
    the same key, for every key on either side: set-based, one grouped pass and one join.
    A key missing from the model, or a value that differs, fails. Keys with no rows in `of`
    must hold `default`. In an incremental build whose key is a profile id, only the profiles
    audience_events' last build changed are compared (`changed_profiles_key_predicates`).

        columns:
          - name: total_orders
            data_tests:
              - matches_aggregate:
                  arguments:
                    of: ref('audience_events')
                    key: profile_id
                    expression: "count(*)"
                    filter: "event_type = 'purchase'"
-#}
{% test matches_aggregate(model, column_name, of, key, expression, filter=none, model_key="id", default=0) %}
    {#-- an incremental build checks the keys it changed (macros/changed_rows_tests.sql) --#}
    {%- set changed = changed_profiles_key_predicates([model_key, key]) if key == 'profile_id' else none %}

    with

    model_values as (
        select {{ model_key }} as key, {{ column_name }} as value
        from {{ model }}
        {%- if changed %}
        where {{ changed | first }}
        {%- endif %}
    ),

    aggregates as (
        select {{ key }} as key, {{ expression }} as value
        from {{ of }}
        where {{ key }} is not null
        {%- if filter %}
          and ({{ filter }})
        {%- endif %}
        {%- if changed %}
          and {{ changed | last }}
        {%- endif %}
        group by {{ key }}
    ),

    compared as (
        select
            coalesce(model_values.key, aggregates.key) as key,
            model_values.value as model_value,
            coalesce(aggregates.value, {{ default }}) as expected_value,
            model_values.key is null as missing_from_model
        from model_values
        full join aggregates on aggregates.key = model_values.key
    )

    select *
    from compared
    where missing_from_model or model_value is distinct from expected_value

{% endtest %}

{#-
    JSON values: access, building and shape guards. On PostgreSQL they are jsonb (the raw
    `payload` columns, the events' `properties`). Every macro is dispatched on the adapter
    (see engine_support.sql); `path` is one key or a list of keys.

        json_text('payload', ['traits', 'email'])   ->  payload -> 'traits' ->> 'email'
        json_object({'order_id': 'order_id', 'total': 'total_price'}, strip_nulls=true)
-#}

{#- the value at `path`, as JSON -#}
{% macro json_get(expression, path) -%}
    {{ return(adapter.dispatch('json_get', 'audience')(expression, path)) }}
{%- endmacro %}
{% macro default__json_get(expression, path) %}{{ engine_not_supported('json_get') }}{% endmacro %}
{% macro postgres__json_get(expression, path) -%}
    {%- set keys = [path] if path is string else path -%}
    {{ expression }}{% for key in keys %} -> '{{ key }}'{% endfor %}
{%- endmacro %}

{#- the value at `path`, as text (a JSON string unquoted; null when absent or JSON null) -#}
{% macro json_text(expression, path) -%}
    {{ return(adapter.dispatch('json_text', 'audience')(expression, path)) }}
{%- endmacro %}
{% macro default__json_text(expression, path) %}{{ engine_not_supported('json_text') }}{% endmacro %}
{% macro postgres__json_text(expression, path) -%}
    {%- set keys = [path] if path is string else path -%}
    {{ expression }}{% for key in keys[:-1] %} -> '{{ key }}'{% endfor %} ->> '{{ keys[-1] }}'
{%- endmacro %}

{#- a JSON scalar itself as text ('"a"' -> 'a', '1' -> '1') -#}
{% macro json_scalar_text(expression) -%}
    {{ return(adapter.dispatch('json_scalar_text', 'audience')(expression)) }}
{%- endmacro %}
{% macro default__json_scalar_text(expression) %}{{ engine_not_supported('json_scalar_text') }}{% endmacro %}
{% macro postgres__json_scalar_text(expression) -%}
    {{ expression }} #>> '{}'
{%- endmacro %}

{#- true when the JSON object has the key -#}
{% macro json_has_key(expression, key) -%}
    {{ return(adapter.dispatch('json_has_key', 'audience')(expression, key)) }}
{%- endmacro %}
{% macro default__json_has_key(expression, key) %}{{ engine_not_supported('json_has_key') }}{% endmacro %}
{% macro postgres__json_has_key(expression, key) -%}
    {{ expression }} ? '{{ key }}'
{%- endmacro %}

{#- 'object', 'array', 'string', 'number', 'boolean' or 'null' -#}
{% macro json_type(expression) -%}
    {{ return(adapter.dispatch('json_type', 'audience')(expression)) }}
{%- endmacro %}
{% macro default__json_type(expression) %}{{ engine_not_supported('json_type') }}{% endmacro %}
{% macro postgres__json_type(expression) -%}
    jsonb_typeof({{ expression }})
{%- endmacro %}

{#- a JSON object from {key: SQL expression}; strip_nulls drops the keys whose value is null -#}
{% macro json_object(pairs, strip_nulls=false) -%}
    {{ return(adapter.dispatch('json_object', 'audience')(pairs, strip_nulls)) }}
{%- endmacro %}
{% macro default__json_object(pairs, strip_nulls) %}{{ engine_not_supported('json_object') }}{% endmacro %}
{% macro postgres__json_object(pairs, strip_nulls) -%}
    {%- set built -%}
    jsonb_build_object(
        {%- for key, value in pairs.items() %}
            '{{ key }}', {{ value }}{{ ',' if not loop.last }}
        {%- endfor %}
        )
    {%- endset -%}
    {{ 'jsonb_strip_nulls(' ~ built ~ ')' if strip_nulls else built }}
{%- endmacro %}

{#- a SQL value (text, number, boolean, array) as JSON -#}
{% macro json_from(expression) -%}
    {{ return(adapter.dispatch('json_from', 'audience')(expression)) }}
{%- endmacro %}
{% macro default__json_from(expression) %}{{ engine_not_supported('json_from') }}{% endmacro %}
{% macro postgres__json_from(expression) -%}
    to_jsonb({{ expression }})
{%- endmacro %}

{#- two JSON objects merged; keys of `right` win -#}
{% macro json_merge(left, right) -%}
    {{ return(adapter.dispatch('json_merge', 'audience')(left, right)) }}
{%- endmacro %}
{% macro default__json_merge(left, right) %}{{ engine_not_supported('json_merge') }}{% endmacro %}
{% macro postgres__json_merge(left, right) -%}
    {{ left }} || {{ right }}
{%- endmacro %}

{#- the empty JSON object / array -#}
{% macro json_empty_object() -%}
    {{ return(adapter.dispatch('json_empty_object', 'audience')()) }}
{%- endmacro %}
{% macro default__json_empty_object() %}{{ engine_not_supported('json_empty_object') }}{% endmacro %}
{% macro postgres__json_empty_object() -%}
    '{}'::jsonb
{%- endmacro %}

{% macro json_empty_array() -%}
    {{ return(adapter.dispatch('json_empty_array', 'audience')()) }}
{%- endmacro %}
{% macro default__json_empty_array() %}{{ engine_not_supported('json_empty_array') }}{% endmacro %}
{% macro postgres__json_empty_array() -%}
    '[]'::jsonb
{%- endmacro %}

{#- aggregate: a JSON array of `expression`, in `order_by` order -#}
{% macro json_agg_ordered(expression, order_by) -%}
    {{ return(adapter.dispatch('json_agg_ordered', 'audience')(expression, order_by)) }}
{%- endmacro %}
{% macro default__json_agg_ordered(expression, order_by) %}{{ engine_not_supported('json_agg_ordered') }}{% endmacro %}
{% macro postgres__json_agg_ordered(expression, order_by) -%}
    jsonb_agg(
            {{ expression }}
            order by {{ order_by }}
        )
{%- endmacro %}

{#- aggregate: a JSON object of key -> value (a FILTER clause may follow) -#}
{% macro json_object_aggregate(key, value) -%}
    {{ return(adapter.dispatch('json_object_aggregate', 'audience')(key, value)) }}
{%- endmacro %}
{% macro default__json_object_aggregate(key, value) %}{{ engine_not_supported('json_object_aggregate') }}{% endmacro %}
{% macro postgres__json_object_aggregate(key, value) -%}
    jsonb_object_agg({{ key }}, {{ value }})
{%- endmacro %}

{#- true when any value of the JSON object is `true` (consent category preferences) -#}
{% macro json_any_value_true(expression) -%}
    {{ return(adapter.dispatch('json_any_value_true', 'audience')(expression)) }}
{%- endmacro %}
{% macro default__json_any_value_true(expression) %}{{ engine_not_supported('json_any_value_true') }}{% endmacro %}
{% macro postgres__json_any_value_true(expression) -%}
    jsonb_path_exists({{ expression }}, '$.* ? (@ == true)')
{%- endmacro %}

{#- the number of elements of a JSON array -#}
{% macro json_array_length(expression) -%}
    {{ return(adapter.dispatch('json_array_length', 'audience')(expression)) }}
{%- endmacro %}
{% macro default__json_array_length(expression) %}{{ engine_not_supported('json_array_length') }}{% endmacro %}
{% macro postgres__json_array_length(expression) -%}
    jsonb_array_length({{ expression }})
{%- endmacro %}

{#- FROM-clause item: one row per element of the JSON array `expression` (evaluated per row of
    the relations before it), as `alias.value` and, with position=true, `alias.position` (1..n) -#}
{% macro json_elements_join(expression, alias, position=false) -%}
    {{ return(adapter.dispatch('json_elements_join', 'audience')(expression, alias, position)) }}
{%- endmacro %}
{% macro default__json_elements_join(expression, alias, position) %}{{ engine_not_supported('json_elements_join') }}{% endmacro %}
{% macro postgres__json_elements_join(expression, alias, position) -%}
    {%- if position -%}
    cross join lateral jsonb_array_elements({{ expression }}) with ordinality as {{ alias }} (value, position)
    {%- else -%}
    cross join lateral jsonb_array_elements({{ expression }}) as {{ alias }} (value)
    {%- endif -%}
{%- endmacro %}

{#- the text values of `key` in the objects of a JSON array, in order, nulls left out (a text
    array) -#}
{% macro json_array_field_texts(expression, key) -%}
    {{ return(adapter.dispatch('json_array_field_texts', 'audience')(expression, key)) }}
{%- endmacro %}
{% macro default__json_array_field_texts(expression, key) %}{{ engine_not_supported('json_array_field_texts') }}{% endmacro %}
{% macro postgres__json_array_field_texts(expression, key) -%}
    array(
            select element.value ->> '{{ key }}'
            from jsonb_array_elements({{ expression }}) with ordinality as element (value, position)
            where element.value ->> '{{ key }}' is not null
            order by element.position
        )
{%- endmacro %}

{#- Shape guards: the functions that take arrays apart fail on anything that is not an array,
    and downstream code is simpler when "absent" and "wrong type" both read as empty. -#}

{#- `expression` when it is a JSON array, else an empty array -#}
{% macro json_array_or_empty(expression) -%}
    case when {{ json_type(expression) }} = 'array' then {{ expression }} else {{ json_empty_array() }} end
{%- endmacro %}

{#- `expression` when it is a JSON object, else an empty object -#}
{% macro json_object_or_empty(expression) -%}
    case when {{ json_type(expression) }} = 'object' then {{ expression }} else {{ json_empty_object() }} end
{%- endmacro %}

{#- A JSON array of scalars, or a single scalar, as a text array; empty when absent or null.
    SendGrid sends `category` as a string for one category and as an array for several. -#}
{% macro json_to_text_array(expression) -%}
    {{ return(adapter.dispatch('json_to_text_array', 'audience')(expression)) }}
{%- endmacro %}
{% macro default__json_to_text_array(expression) %}{{ engine_not_supported('json_to_text_array') }}{% endmacro %}
{% macro postgres__json_to_text_array(expression) -%}
    case
        when jsonb_typeof({{ expression }}) = 'array' then array(
            select element.value
            from jsonb_array_elements_text({{ expression }}) with ordinality as element (value, position)
            where element.value is not null
            order by element.position
        )
        when jsonb_typeof({{ expression }}) in ('string', 'number', 'boolean')
            then array[{{ expression }} #>> '{}']
        else cast(array[] as text[])
    end
{%- endmacro %}

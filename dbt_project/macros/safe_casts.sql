{#-
    Types and casts. Models name types logically ('text', 'timestamp', 'uuid', 'json',
    'text_array', or a portable SQL type such as 'bigint' or 'numeric(14,2)'); type_name() maps
    them to the engine's (on PostgreSQL: text, timestamptz, uuid, jsonb, text[]).

    The try_casts return NULL instead of failing the whole query when one raw record holds a
    value of the wrong shape ("n/a" as a price, "yesterday" as a date). Staging reads values
    out of the raw `payload`, which ingestion keeps verbatim; one bad field must not stop the
    view for everybody. PostgreSQL 16+ (pg_input_is_valid), which the raw layer needs anyway.
-#}

{#- the engine's name of a logical type -#}
{% macro type_name(data_type) -%}
    {{ return(adapter.dispatch('type_name', 'audience')(data_type)) }}
{%- endmacro %}
{% macro default__type_name(data_type) %}{{ engine_not_supported('type_name') }}{% endmacro %}
{% macro postgres__type_name(data_type) -%}
    {%- set names = {'timestamp': 'timestamptz', 'json': 'jsonb', 'text_array': 'text[]'} -%}
    {{ return(names.get(data_type, data_type)) }}
{%- endmacro %}

{#- cast(expression as <the engine's type for data_type>) -#}
{% macro cast_as(expression, data_type) -%}
    cast({{ expression }} as {{ type_name(data_type) }})
{%- endmacro %}

{#- `expression` (text) cast to `data_type`, or NULL when it would not cast. `data_type` may
    carry a type modifier: try_cast(json_text('payload', 'total_price'), 'numeric(14,2)'). -#}
{% macro try_cast(expression, data_type) -%}
    {{ return(adapter.dispatch('try_cast', 'audience')(expression, data_type)) }}
{%- endmacro %}
{% macro default__try_cast(expression, data_type) %}{{ engine_not_supported('try_cast') }}{% endmacro %}
{% macro postgres__try_cast(expression, data_type) -%}
    case
        when pg_input_is_valid({{ expression }}, '{{ type_name(data_type) }}')
            then cast({{ expression }} as {{ type_name(data_type) }})
    end
{%- endmacro %}

{#- An ISO-8601 timestamp as a timestamp with time zone, or NULL. Unlike
    try_cast(.., 'timestamp') it rejects PostgreSQL's special words ('now', 'today', 'epoch',
    'infinity') and the locale-dependent forms the lenient parser guesses at. -#}
{% macro try_cast_timestamp(expression) -%}
    {{ return(adapter.dispatch('try_cast_timestamp', 'audience')(expression)) }}
{%- endmacro %}
{% macro default__try_cast_timestamp(expression) %}{{ engine_not_supported('try_cast_timestamp') }}{% endmacro %}
{% macro postgres__try_cast_timestamp(expression) -%}
    case
        when {{ expression }} ~ '^\s*\d{4}-?\d{2}-?\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)?\s*$'
            and pg_input_is_valid({{ expression }}, 'timestamptz')
            then cast({{ expression }} as timestamptz)
    end
{%- endmacro %}

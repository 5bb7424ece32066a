{#-
    Casts that return NULL instead of failing the whole query when one raw record holds a
    value of the wrong shape ("n/a" as a price, "yesterday" as a date). Staging reads values
    out of the raw `payload`, which ingestion keeps verbatim; one bad field must not stop the
    view for everybody. PostgreSQL 16+ (pg_input_is_valid), which the raw layer needs anyway.
-#}

{#- `expression` (text) cast to `data_type`, or NULL when it would not cast. `data_type` may
    carry a type modifier: try_cast("payload ->> 'total_price'", 'numeric(14,2)'). -#}
{% macro try_cast(expression, data_type) -%}
    case
        when pg_input_is_valid({{ expression }}, '{{ data_type }}')
            then cast({{ expression }} as {{ data_type }})
    end
{%- endmacro %}

{#- An ISO-8601 timestamp as timestamptz, or NULL. Unlike try_cast(.., 'timestamptz') it
    rejects PostgreSQL's special words ('now', 'today', 'epoch', 'infinity') and the
    locale-dependent forms the lenient parser guesses at. -#}
{% macro try_cast_timestamptz(expression) -%}
    case
        when {{ expression }} ~ '^\s*\d{4}-?\d{2}-?\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)?\s*$'
            and pg_input_is_valid({{ expression }}, 'timestamptz')
            then cast({{ expression }} as timestamptz)
    end
{%- endmacro %}

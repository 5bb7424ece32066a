{#-
    Lets unit-test fixtures hold text[] values (e.g. categories: "{newsletter,promo}").

    dbt casts every fixture value to its column's type as information_schema reports it, and
    PostgreSQL reports every array column as plain "ARRAY" (the element type is only in
    udt_name), which is not a type one can cast to. The staging models' only array type is
    text[], so a value for an "ARRAY" column is read as a text[] literal. Every other type is
    cast exactly as dbt's default does; "ARRAY" is never a valid target otherwise.
-#}
{% macro postgres__safe_cast(field, type) -%}
    {%- if type | lower == 'array' -%}
        cast({{ field }} as text[])
    {%- else -%}
        {{ dbt.default__safe_cast(field, type) }}
    {%- endif -%}
{%- endmacro %}

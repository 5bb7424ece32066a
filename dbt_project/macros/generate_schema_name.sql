{#-
    Use a model's custom schema verbatim (`staging`, not `<target schema>_staging`), so every
    environment has the same layout: raw, staging, intermediate, marts. Models without a
    custom schema land in the target's schema (AUDIENCE_PG_SCHEMA, default public).
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

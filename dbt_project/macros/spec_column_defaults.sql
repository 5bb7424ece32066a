{#-
    Post-hook: the spec's column DEFAULTs on a rebuilt table, in one ALTER TABLE (model
    contracts have none). The model lists them in its config:

        config:
          column_defaults: {wtp_score: "50", lifecycle_stage: "'anonymous'"}
        post_hook: "{{ spec_column_defaults() }}"

    Rows dbt writes carry their values; defaults matter to whoever inserts rows by hand or
    from an application.
-#}
{% macro spec_column_defaults() -%}
    {{ return(adapter.dispatch('spec_column_defaults', 'audience')()) }}
{%- endmacro %}
{% macro default__spec_column_defaults() %}{{ engine_not_supported('spec_column_defaults') }}{% endmacro %}
{% macro postgres__spec_column_defaults() -%}
    {%- set defaults = model.config.get('column_defaults', {}) -%}
    {%- if defaults -%}
    alter table {{ this }}
    {%- for column, expression in defaults.items() %}
        alter column {{ column }} set default {{ expression }}{{ ',' if not loop.last }}
    {%- endfor %}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#-
    Post-hook: an index with the spec's fixed name (idx_audience_profiles_email, …) on a table
    that dbt's `table` materialization rebuilds and swaps.

    Index names are unique per schema, and inside the transaction the previous build (renamed
    to `<table>__dbt_backup`, dropped after COMMIT) still holds the name. So the old index is
    first renamed out of the way (it goes when its table is dropped), then the new one is
    created on {{ this }} — before COMMIT, so readers never see the table without it.

        post_hook=["{{ spec_index('idx_audience_profiles_email', '(email)', unique=true) }}"]
-#}
{% macro spec_index(name, definition, unique=false) -%}
    {%- set retired = (name ~ '_old_' ~ invocation_id.replace('-', ''))[:63] -%}
    alter index if exists {{ this.schema }}.{{ name }} rename to {{ retired }};
    create {{ 'unique' if unique }} index {{ name }} on {{ this }} {{ definition }}
{%- endmacro %}

{#- Post-hook: the primary key with a fixed constraint name (`<table>_pkey`), same dance. -#}
{% macro spec_primary_key(columns) -%}
    {%- set name = this.identifier ~ '_pkey' -%}
    {{ spec_index(name, '(' ~ columns ~ ')', unique=true) }};
    alter table {{ this }} add constraint {{ name }} primary key using index {{ name }}
{%- endmacro %}

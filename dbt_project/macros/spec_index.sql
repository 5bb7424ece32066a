{#-
    Post-hook: an index with the spec's fixed name (idx_audience_profiles_email, …) on a table
    that dbt's `table` materialization rebuilds and swaps. `columns`: a list of column
    expressions ('last_seen_at desc'); `method`: an index method (PostgreSQL: btree by default,
    'gin' for arrays).

    Index names are unique per schema, and inside the transaction the previous build (renamed
    to `<table>__dbt_backup`, dropped after COMMIT) still holds the name. So the old index is
    first renamed out of the way (it goes when its table is dropped), then the new one is
    created on {{ this }} — before COMMIT, so readers never see the table without it.

        post_hook=["{{ spec_index('idx_audience_profiles_email', ['email'], unique=true) }}"]

    Engines without indexes (Spark) implement these as no-ops (`select 1`).
-#}
{% macro spec_index(name, columns, unique=false, method=none) -%}
    {{ return(adapter.dispatch('spec_index', 'audience')(name, columns, unique, method)) }}
{%- endmacro %}
{% macro default__spec_index(name, columns, unique, method) %}{{ engine_not_supported('spec_index') }}{% endmacro %}
{% macro postgres__spec_index(name, columns, unique, method) -%}
    {%- set retired = (name ~ '_old_' ~ invocation_id.replace('-', ''))[:63] -%}
    alter index if exists {{ this.schema }}.{{ name }} rename to {{ retired }};
    create {{ 'unique' if unique }} index {{ name }} on {{ this }} {{ 'using ' ~ method ~ ' ' if method }}({{ columns | join(', ') }})
{%- endmacro %}

{#- Post-hook: the primary key with a fixed constraint name (`<table>_pkey`), same dance. -#}
{% macro spec_primary_key(columns) -%}
    {{ return(adapter.dispatch('spec_primary_key', 'audience')(columns)) }}
{%- endmacro %}
{% macro default__spec_primary_key(columns) %}{{ engine_not_supported('spec_primary_key') }}{% endmacro %}
{% macro postgres__spec_primary_key(columns) -%}
    {%- set name = this.identifier ~ '_pkey' -%}
    {{ postgres__spec_index(name, columns, true, none) }};
    alter table {{ this }} add constraint {{ name }} primary key using index {{ name }}
{%- endmacro %}

{#- Post-hook: ANALYZE the table just built (statistics for the models that read it next). -#}
{% macro analyze_relation() -%}
    {{ return(adapter.dispatch('analyze_relation', 'audience')()) }}
{%- endmacro %}
{% macro default__analyze_relation() %}select 1{% endmacro %}
{% macro postgres__analyze_relation() %}analyze {{ this }}{% endmacro %}

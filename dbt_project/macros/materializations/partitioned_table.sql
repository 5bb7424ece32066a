{#-
    materialized='partitioned_table': a table PARTITION BY RANGE on a timestamptz column, one
    partition per calendar month (UTC) present in the data plus a DEFAULT partition, rebuilt
    in full and swapped in atomically. dbt-postgres has no partitioned materialization.

        {{ config(
            materialized='partitioned_table',
            partition_by='occurred_at',
            named_indexes=[
                {'name': 'idx_audience_events_profile', 'columns': ['profile_id']},
                {'name': 'idx_audience_events_occurred', 'columns': ['occurred_at desc']},
            ],
        ) }}

    Build, in one transaction:
      1. the model's rows go into a temporary table (no WAL), once;
      2. the months present are read from it; the new parent `<name>__dbt_tmp` is created
         (from the model contract when enforced, else like the rows) with partitions
         `<name>_<yyyy>_<mm>__dbt_tmp` and `<name>_default__dbt_tmp` (nulls, out-of-range);
      3. the rows are inserted set-based (PostgreSQL routes them to their partitions);
      4. each named index is built on every partition (`<partition>_<suffix>__dbt_tmp`, the
         suffix being the index name without `idx_<name>_`) and then on the parent, which
         attaches the partition indexes; the parent is ANALYZEd (only `analyze_columns` when
         given);
      5. swap: the previous relation is dropped (with its partitions and indexes) and every new
         object loses its `__dbt_tmp` suffix, so names are the same after every build
         (`audience_events_2025_01`, `idx_audience_events_profile`, …).
    Readers see the old table until COMMIT, then the new one. Like dbt's table
    materialization, dropping the old relation drops views that depend on it.

    Incremental (config incremental=true, the table exists, no --full-refresh; the model asks
    `partitioned_is_incremental()` too): the model returns `_scope_id`, `_scope_occurred_at`
    (every row to replace) and the table's columns (the row's new values; all null when the
    row is gone). In one transaction: the rows go into a temporary table; a partition is
    created for each new month (named and indexed as a full build would, then attached); each
    row named is compared with its new row, column by column, and only the rows that differ
    are written: the old one deleted (partition-pruned on the partition column), the new one
    inserted. Re-deriving rows that come out the same costs reads, not writes (no dead tuples,
    no index churn). Months are never dropped: a month left empty keeps its empty partition.

    `profile_change_log=true`: both builds log the profiles they change for the per-profile
    tables downstream (macros/profile_changes.sql).
-#}

{% materialization partitioned_table, adapter='postgres' %}

  {%- set partition_column = config.require('partition_by') -%}
  {%- set named_indexes = config.get('named_indexes', []) -%}
  {%- set analyze_columns = config.get('analyze_columns', []) -%}
  {%- set grant_config = config.get('grants') -%}
  {%- set contract_config = config.get('contract') -%}

  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set suffix = '__dbt_tmp' -%}
  {%- set intermediate_relation = make_intermediate_relation(target_relation, suffix) -%}
  {%- set rows_relation = make_temp_relation(target_relation, '__dbt_rows') -%}

  {#-- PostgreSQL cuts identifiers at 63 bytes, which would break the renames: refuse early
       (`<name>_default` is as long as any `<name>_<yyyy>_<mm>`) --#}
  {%- set longest_partition = target_relation.identifier ~ '_default' -%}
  {%- set index_prefix = 'idx_' ~ target_relation.identifier ~ '_' -%}
  {%- set names = [longest_partition] -%}
  {%- for index in named_indexes -%}
    {%- set index_suffix = index.name[index_prefix | length:] if index.name.startswith(index_prefix) else index.name -%}
    {%- do names.extend([index.name, longest_partition ~ '_' ~ index_suffix]) -%}
  {%- endfor -%}
  {%- for name in names if (name ~ suffix) | length > 63 -%}
    {{ exceptions.raise_compiler_error(
        "partitioned_table " ~ target_relation ~ ": " ~ name ~ suffix ~ " is longer than"
        ~ " PostgreSQL's 63 characters; shorten the model or index name"
    ) }}
  {%- endfor %}

  {#-- leftovers of a failed build (its partitions go with it) --#}
  {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  -- `BEGIN` happens here:
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {%- if partitioned_is_incremental() -%}
    {{ postgres__partitioned_table_replace_rows(target_relation, rows_relation, partition_column, named_indexes, sql) }}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do apply_grants(target_relation, grant_config, should_revoke=false) %}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
  {%- endif -%}

  {%- if contract_config.enforced -%}
    {{ get_assert_columns_equivalent(sql) }}
  {%- endif -%}

  {#-- 1. the rows, computed once --#}
  {% call statement('stage_rows') -%}
    create temporary table {{ rows_relation }} on commit drop as (
      {{ sql }}
    )
  {%- endcall %}

  {#-- 2. the months present, the parent and its partitions --#}
  {%- set months_sql -%}
    select distinct to_char(date_trunc('month', {{ partition_column }}, 'UTC'), 'YYYY_MM') as month
    from {{ rows_relation }}
    where {{ partition_column }} is not null
    order by 1
  {%- endset -%}
  {%- set months = run_query(months_sql).columns[0].values() -%}

  {%- set partitions = month_partitions(target_relation.identifier, months) -%}
  {%- do partitions.append({'name': target_relation.identifier ~ '_default', 'bound': 'default'}) -%}

  {% call statement('create_partitioned_parent') -%}
    create table {{ intermediate_relation }}
    {% if contract_config.enforced -%}
      {{ get_table_columns_and_constraints() }}
    {%- else -%}
      (like {{ rows_relation }})
    {%- endif %}
    partition by range ({{ partition_column }});
    {% for partition in partitions -%}
    create table {{ intermediate_relation.incorporate(path={'identifier': partition.name ~ suffix}) }}
      partition of {{ intermediate_relation }} {{ partition.bound }};
    {% endfor %}
  {%- endcall %}

  {#-- 3. the rows, routed to their partitions (by name when the contract fixes the order) --#}
  {% call statement('main') -%}
    {% if contract_config.enforced -%}
    {%- set column_names = adapter.dispatch('get_column_names', 'dbt')() -%}
    insert into {{ intermediate_relation }} ({{ column_names }})
    select {{ column_names }} from {{ rows_relation }}
    {%- else -%}
    insert into {{ intermediate_relation }}
    select * from {{ rows_relation }}
    {%- endif %}
  {%- endcall %}

  {#-- 4. indexes: on each partition, then on the parent (which attaches them) --#}
  {%- set renamed = [] -%}
  {% for index in named_indexes -%}
    {%- set index_suffix = index.name[index_prefix | length:] if index.name.startswith(index_prefix) else index.name -%}
    {%- set definition -%}
      {{ 'using ' ~ index.type if index.get('type') }} ({{ index.columns | join(', ') }})
    {%- endset -%}
    {% call statement('create_index_' ~ loop.index) -%}
      {% for partition in partitions -%}
      create {{ 'unique' if index.get('unique') }} index {{ partition.name ~ '_' ~ index_suffix ~ suffix }}
        on {{ intermediate_relation.incorporate(path={'identifier': partition.name ~ suffix}) }} {{ definition }};
      {% endfor -%}
      create {{ 'unique' if index.get('unique') }} index {{ index.name ~ suffix }}
        on {{ intermediate_relation }} {{ definition }};
    {%- endcall %}
    {%- for partition in partitions -%}
      {%- do renamed.append(('index', partition.name ~ '_' ~ index_suffix)) -%}
    {%- endfor -%}
    {%- do renamed.append(('index', index.name)) -%}
  {%- endfor %}

  {#-- statistics for the models that read it next (wide jsonb columns are slow to sample:
       `analyze_columns` limits ANALYZE to the columns queries filter, join and group on) --#}
  {% call statement('analyze') -%}
    analyze {{ intermediate_relation }}{{ ' (' ~ analyze_columns | join(', ') ~ ')' if analyze_columns }}
  {%- endcall %}

  {#-- 5. swap --#}
  {%- set existing_relation = load_cached_relation(existing_relation) if existing_relation is not none else none -%}
  {%- if existing_relation is not none -%}
    {{ adapter.drop_relation(existing_relation) }}
  {%- endif -%}
  {%- for partition in partitions -%}
    {%- do renamed.append(('table', partition.name)) -%}
  {%- endfor -%}
  {% call statement('rename_to_final_names') -%}
    {% for kind, name in renamed -%}
    alter {{ kind }} {{ target_relation.schema }}.{{ adapter.quote(name ~ suffix) }} rename to {{ adapter.quote(name) }};
    {% endfor -%}
    alter table {{ intermediate_relation }} rename to {{ adapter.quote(target_relation.identifier) }};
  {%- endcall %}

  {#-- a full build: every profile changed (macros/profile_changes.sql) --#}
  {%- if config.get('profile_change_log', false) %}
  {% call statement('profile_changes') -%}
    {{ record_profile_changes(none) }}
  {%- endcall %}
  {%- endif %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}

  {% set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) %}
  {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}
  {% do persist_docs(target_relation, model) %}

  -- `COMMIT` happens here (and the temporary rows table goes with it)
  {{ adapter.commit() }}

  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}

{#- Other adapters: a clear error until they have a partitioned materialization of their own
    (Spark: a parquet table `partitioned_by` month with insert_overwrite). -#}
{% materialization partitioned_table, default %}
  {{ exceptions.raise_compiler_error(
      "audience: materialized='partitioned_table' (" ~ this ~ ") has no implementation for the adapter '"
      ~ adapter.type() ~ "'; add a materialization partitioned_table for adapter='" ~ adapter.type()
      ~ "' beside the PostgreSQL one in dbt_project/macros/materializations/partitioned_table.sql"
  ) }}
{% endmaterialization %}

{#- The monthly partitions of `identifier` for months 'YYYY_MM': [{name, bound}]. -#}
{% macro month_partitions(identifier, months) -%}
  {%- set partitions = [] -%}
  {%- for month in months -%}
    {%- set year, month_number = month.split('_') -%}
    {%- set lower = year ~ '-' ~ month_number ~ '-01 00:00:00+00' -%}
    {%- set next_year = (year | int) + (1 if month_number == '12' else 0) -%}
    {%- set next_month = 1 if month_number == '12' else (month_number | int) + 1 -%}
    {%- set upper = next_year ~ '-' ~ '%02d' | format(next_month) ~ '-01 00:00:00+00' -%}
    {%- do partitions.append({
        'name': identifier ~ '_' ~ month,
        'bound': "for values from ('" ~ lower ~ "') to ('" ~ upper ~ "')",
    }) -%}
  {%- endfor -%}
  {{ return(partitions) }}
{%- endmacro %}

{#- The incremental build of a partitioned_table (inside the materialization's transaction). -#}
{% macro postgres__partitioned_table_replace_rows(target_relation, rows_relation, partition_column, named_indexes, sql) -%}
  {%- set key = config.get('unique_key') or 'id' -%}
  {% call statement('stage_rows') -%}
    create temporary table {{ rows_relation }} on commit drop as (
      {{ sql }}
    );
    analyze {{ rows_relation }}
  {%- endcall %}

  {#-- new months: a partition each, indexed like a full build's, then attached --#}
  {%- set months_sql -%}
    select distinct to_char(date_trunc('month', {{ partition_column }}, 'UTC'), 'YYYY_MM') as month
    from {{ rows_relation }}
    where {{ partition_column }} is not null
    order by 1
  {%- endset -%}
  {%- set months = run_query(months_sql).columns[0].values() -%}
  {%- set existing_sql -%}
    select child.relname from pg_inherits
    join pg_class as child on child.oid = pg_inherits.inhrelid
    where pg_inherits.inhparent = '{{ target_relation }}'::regclass
  {%- endset -%}
  {%- set existing = run_query(existing_sql).columns[0].values() -%}
  {%- set index_prefix = 'idx_' ~ target_relation.identifier ~ '_' -%}
  {%- for partition in month_partitions(target_relation.identifier, months) if partition.name not in existing %}
    {%- set partition_relation = target_relation.incorporate(path={'identifier': partition.name}) -%}
    {% call statement('add_partition_' ~ loop.index) -%}
      create table {{ partition_relation }} (like {{ target_relation }} including defaults);
      {% for index in named_indexes -%}
      {%- set index_suffix = index.name[index_prefix | length:] if index.name.startswith(index_prefix) else index.name -%}
      create {{ 'unique' if index.get('unique') }} index {{ partition.name ~ '_' ~ index_suffix }}
        on {{ partition_relation }} {{ 'using ' ~ index.type if index.get('type') }} ({{ index.columns | join(', ') }});
      {% endfor -%}
      alter table {{ target_relation }} attach partition {{ partition_relation }} {{ partition.bound }}
    {%- endcall %}
  {%- endfor %}

  {%- set column_names = [] -%}
  {%- for column in adapter.get_columns_in_relation(target_relation) -%}
    {%- do column_names.append(adapter.quote(column.name)) -%}
  {%- endfor -%}
  {#-- only the rows that differ are written: each row in scope is compared with its new row,
       column by column (a full join on the key); `_old_*` name the row to delete, the
       columns the row to insert (null key: none) --#}
  {%- set diff_relation = make_temp_relation(target_relation, '__dbt_diff') -%}
  {% call statement('diff_rows') -%}
    create temporary table {{ diff_relation }} on commit drop as
    with
    scope as (
        select distinct _scope_id, _scope_occurred_at from {{ rows_relation }}
    ),
    old_rows as (
        select target.{{ column_names | join(', target.') }}
        from {{ target_relation }} as target
        inner join scope
            on target.{{ key }} = scope._scope_id
            and target.{{ partition_column }} = scope._scope_occurred_at
    ),
    new_rows as (
        select {{ column_names | join(', ') }} from {{ rows_relation }} where {{ key }} is not null
    )
    select
        old_rows.{{ key }} as _old_key,
        old_rows.{{ partition_column }} as _old_partition_value,
        {{ 'old_rows.profile_id as _old_profile_id,' if config.get('profile_change_log', false) }}
        new_rows.{{ column_names | join(', new_rows.') }}
    from old_rows
    full join new_rows on new_rows.{{ key }} = old_rows.{{ key }}
    where row(old_rows.{{ column_names | join(', old_rows.') }})
        is distinct from row(new_rows.{{ column_names | join(', new_rows.') }})
  {%- endcall %}
  {% call statement('main') -%}
    delete from {{ target_relation }} as target
    using {{ diff_relation }} as diff
    where diff._old_key is not null
      and target.{{ key }} = diff._old_key
      and target.{{ partition_column }} = diff._old_partition_value;
    insert into {{ target_relation }} ({{ column_names | join(', ') }})
    select {{ column_names | join(', ') }} from {{ diff_relation }}
    where {{ key }} is not null
  {%- endcall %}
  {#-- the profiles whose rows changed, for the per-profile tables (macros/profile_changes.sql) --#}
  {%- if config.get('profile_change_log', false) %}
  {% call statement('profile_changes') -%}
    {{ record_profile_changes(diff_relation) }}
  {%- endcall %}
  {%- endif %}
{%- endmacro %}

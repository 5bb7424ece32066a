{#-
    The dbt project runs on PostgreSQL today and is written to run on a second engine (Apache
    Spark through dbt-spark) later. Every PostgreSQL-only idiom the models need (jsonb, regex
    operators, type names, DISTINCT ON, LATERAL, planner settings, indexes ...) is a macro
    dispatched on the adapter, `adapter.dispatch('<name>', 'audience')`, with one
    `postgres__<name>` implementation. A second engine is a set of `<adapter>__<name>` macros,
    not a rewrite of the models. tests/test_dbt_engine_neutral.py keeps it that way: it fails
    on a PostgreSQL-only token in models/ or outside a `postgres__` macro in macros/.

    engine_not_supported(name): the `default__` of every such macro. It stops the compilation
    with a message naming the adapter and the macro to write.
-#}
{% macro engine_not_supported(name) -%}
    {{ exceptions.raise_compiler_error(
        "audience: the macro '" ~ name ~ "' has no implementation for the adapter '" ~ adapter.type()
        ~ "'. Add '" ~ adapter.type() ~ "__" ~ name ~ "' beside 'postgres__" ~ name
        ~ "' in dbt_project/macros/ (see dbt_project/macros/engine_support.sql)."
    ) }}
{%- endmacro %}

{#-
    No two rows share the same values in all of the given columns (a composite key).

        data_tests:
          - unique_combination_of_columns:
              arguments:
                combination_of_columns: [file_sha256, line_no]
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

    {%- set columns_csv = combination_of_columns | join(', ') -%}

    with

    duplicates as (

        select
            {{ columns_csv }},
            count(*) as occurrences
        from {{ model }}
        group by {{ columns_csv }}
        having count(*) > 1

    )

    select * from duplicates

{% endtest %}

{#-
    Every non-null value of the column lies within [min_value, max_value] (or the open
    interval when inclusive is false). Either bound may be omitted.

        - accepted_range:
            arguments:
              min_value: 0
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

    {%- if min_value is none and max_value is none -%}
        {{ exceptions.raise_compiler_error(
            "accepted_range on " ~ model ~ "." ~ column_name ~ ": give min_value, max_value or both"
        ) }}
    {%- endif -%}

    {%- set lower_op = '>=' if inclusive else '>' -%}
    {%- set upper_op = '<=' if inclusive else '<' -%}

    with

    validation as (

        select {{ column_name }} as value
        from {{ model }}
        where {{ column_name }} is not null

    )

    select *
    from validation
    where not (
        true
        {%- if min_value is not none %}
        and value {{ lower_op }} {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        and value {{ upper_op }} {{ max_value }}
        {%- endif %}
    )

{% endtest %}

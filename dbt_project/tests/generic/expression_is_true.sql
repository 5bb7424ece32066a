{#-
    A boolean SQL expression holds for every row of the model (rows where it is false or
    null fail). Model-level:

        data_tests:
          - expression_is_true:
              arguments:
                expression: "anonymous_id is not null or user_id is not null"
-#}
{% test expression_is_true(model, expression) %}

    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)

{% endtest %}

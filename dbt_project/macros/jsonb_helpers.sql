{#-
    Shape guards for jsonb read from raw payloads: the functions that take arrays apart fail
    on anything that is not an array, and downstream code is simpler when "absent" and
    "wrong type" both read as empty.
-#}

{#- `expression` when it is a JSON array, else an empty array (safe for jsonb_array_elements). -#}
{% macro jsonb_array_or_empty(expression) -%}
    case when jsonb_typeof({{ expression }}) = 'array' then {{ expression }} else '[]'::jsonb end
{%- endmacro %}

{#- `expression` when it is a JSON object, else an empty object. -#}
{% macro jsonb_object_or_empty(expression) -%}
    case when jsonb_typeof({{ expression }}) = 'object' then {{ expression }} else '{}'::jsonb end
{%- endmacro %}

{#- A JSON array of scalars, or a single scalar, as text[]; empty when absent or null.
    SendGrid sends `category` as a string for one category and as an array for several. -#}
{% macro jsonb_to_text_array(expression) -%}
    case
        when jsonb_typeof({{ expression }}) = 'array' then array(
            select element.value
            from jsonb_array_elements_text({{ expression }}) with ordinality as element (value, position)
            where element.value is not null
            order by element.position
        )
        when jsonb_typeof({{ expression }}) in ('string', 'number', 'boolean')
            then array[{{ expression }} #>> '{}']
        else cast(array[] as text[])
    end
{%- endmacro %}

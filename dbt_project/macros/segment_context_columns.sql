{#-
    The Segment `context` object flattened into the columns every Segment staging model
    shares (Segment spec "Context" fields), plus `context` itself as JSON for the rest.

    page_from_properties: page calls carry url/path/title/referrer/search in `properties`
    (the spec's canonical place) as well as in context.page; when true, properties win.
-#}
{% macro segment_context_columns(payload='payload', page_from_properties=false) -%}
    {%- set context = json_get(payload, 'context') -%}
    {%- set page_fields = [
        ('url', 'page_url'),
        ('path', 'page_path'),
        ('title', 'page_title'),
        ('referrer', 'referrer'),
        ('search', 'search'),
    ] -%}
    {%- set context_fields = [
        (['campaign', 'name'], 'utm_campaign'),
        (['campaign', 'source'], 'utm_source'),
        (['campaign', 'medium'], 'utm_medium'),
        (['campaign', 'term'], 'utm_term'),
        (['campaign', 'content'], 'utm_content'),
        ('ip', 'ip'),
        ('locale', 'locale'),
        ('timezone', 'timezone'),
        ('userAgent', 'user_agent'),
        (['device', 'id'], 'device_id'),
        (['device', 'type'], 'device_type'),
        (['device', 'manufacturer'], 'device_manufacturer'),
        (['device', 'model'], 'device_model'),
        (['os', 'name'], 'os_name'),
        (['os', 'version'], 'os_version'),
        (['app', 'name'], 'app_name'),
        (['app', 'version'], 'app_version'),
        (['library', 'name'], 'library_name'),
        (['library', 'version'], 'library_version'),
    ] -%}
    {%- set preferences = json_get(context, ['consent', 'categoryPreferences']) -%}
    {%- for field, column in page_fields -%}
        {%- if page_from_properties %}
        coalesce(
            {{ json_text(payload, ['properties', field]) }},
            {{ json_text(context, ['page', field]) }}
        ) as {{ column }},
        {%- else %}
        {{ json_text(context, ['page', field]) }} as {{ column }},
        {%- endif -%}
    {%- endfor %}
    {%- for path, column in context_fields %}
        {{ json_text(context, path) }} as {{ column }},
    {%- endfor %}
        case
            when {{ json_type(preferences) }} = 'object'
                then {{ preferences }}
        end as consent_preferences,
        {{ json_object_or_empty(context) }} as context
{%- endmacro %}

{#-
    The Segment `context` object flattened into the columns every Segment staging model
    shares (Segment spec "Context" fields), plus `context` itself as jsonb for the rest.

    page_from_properties: page calls carry url/path/title/referrer/search in `properties`
    (the spec's canonical place) as well as in context.page; when true, properties win.
-#}
{% macro segment_context_columns(payload='payload', page_from_properties=false) -%}
    {%- set context = payload ~ " -> 'context'" -%}
    {%- set properties = payload ~ " -> 'properties'" -%}
    {%- set page_fields = [
        ('url', 'page_url'),
        ('path', 'page_path'),
        ('title', 'page_title'),
        ('referrer', 'referrer'),
        ('search', 'search'),
    ] -%}
    {%- for field, column in page_fields -%}
        {%- if page_from_properties %}
        coalesce(
            {{ properties }} ->> '{{ field }}',
            {{ context }} -> 'page' ->> '{{ field }}'
        ) as {{ column }},
        {%- else %}
        {{ context }} -> 'page' ->> '{{ field }}' as {{ column }},
        {%- endif -%}
    {%- endfor %}
        {{ context }} -> 'campaign' ->> 'name' as utm_campaign,
        {{ context }} -> 'campaign' ->> 'source' as utm_source,
        {{ context }} -> 'campaign' ->> 'medium' as utm_medium,
        {{ context }} -> 'campaign' ->> 'term' as utm_term,
        {{ context }} -> 'campaign' ->> 'content' as utm_content,
        {{ context }} ->> 'ip' as ip,
        {{ context }} ->> 'locale' as locale,
        {{ context }} ->> 'timezone' as timezone,
        {{ context }} ->> 'userAgent' as user_agent,
        {{ context }} -> 'device' ->> 'id' as device_id,
        {{ context }} -> 'device' ->> 'type' as device_type,
        {{ context }} -> 'device' ->> 'manufacturer' as device_manufacturer,
        {{ context }} -> 'device' ->> 'model' as device_model,
        {{ context }} -> 'os' ->> 'name' as os_name,
        {{ context }} -> 'os' ->> 'version' as os_version,
        {{ context }} -> 'app' ->> 'name' as app_name,
        {{ context }} -> 'app' ->> 'version' as app_version,
        {{ context }} -> 'library' ->> 'name' as library_name,
        {{ context }} -> 'library' ->> 'version' as library_version,
        case
            when jsonb_typeof({{ context }} -> 'consent' -> 'categoryPreferences') = 'object'
                then {{ context }} -> 'consent' -> 'categoryPreferences'
        end as consent_preferences,
        {{ jsonb_object_or_empty(context) }} as context
{%- endmacro %}

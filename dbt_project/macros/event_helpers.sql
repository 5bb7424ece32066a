{#-
    Small expressions the event models share: names to snake_case, identifiers normalised the
    way identity resolution stores them, user-agent parsing, UTM parameters, money in the
    spec's numeric(10,2). Pure SQL expressions (no subqueries), so they
    inline into set-based queries.
-#}

{#- 'Order Completed' -> 'order_completed', 'orderCompleted' -> 'order_completed',
    ' Product  Viewed! ' -> 'product_viewed'. -#}
{% macro snake_case(expression) -%}
    {{ return(adapter.dispatch('snake_case', 'audience')(expression)) }}
{%- endmacro %}
{% macro default__snake_case(expression) %}{{ engine_not_supported('snake_case') }}{% endmacro %}
{% macro postgres__snake_case(expression) -%}
    btrim(
        lower(regexp_replace(
            regexp_replace({{ expression }}, '([a-z0-9])([A-Z])', '\1_\2', 'g'),
            '[^A-Za-z0-9]+', '_', 'g'
        )),
        '_'
    )
{%- endmacro %}

{#- An identifier value as identity.identity_map stores it: trimmed (Python's str.strip()
    whitespace), empty -> null. -#}
{% macro identifier_key(expression) -%}
    {{ return(adapter.dispatch('identifier_key', 'audience')(expression)) }}
{%- endmacro %}
{% macro default__identifier_key(expression) %}{{ engine_not_supported('identifier_key') }}{% endmacro %}
{% macro postgres__identifier_key(expression) -%}
    nullif(btrim({{ expression }}, E' \t\n\r\f\x0b'), '')
{%- endmacro %}

{#- An email as identity.identity_map stores it: trimmed and lower-cased. -#}
{% macro email_key(expression) -%}
    lower({{ identifier_key(expression) }})
{%- endmacro %}

{#- A social handle as identity.identity_map stores it: 'platform:handle', lower-cased, no '@'. -#}
{% macro social_handle_key(platform, handle) -%}
    lower({{ identifier_key(platform) }}) || ':' || lower(ltrim({{ identifier_key(handle) }}, '@'))
{%- endmacro %}

{#- The spec's money type, numeric(10,2); null (not an error) for amounts it cannot hold. -#}
{% macro spec_money(expression) -%}
    case
        when abs({{ expression }}) < 100000000 then cast({{ expression }} as numeric(10,2))
    end
{%- endmacro %}

{#- One UTM parameter (utm_campaign, utm_medium, …) of a URL or a path with a query string;
    '+' and %20 read as spaces. -#}
{% macro utm_parameter(url, name) -%}
    nullif(replace(replace(
        {{ regex_extract(url, '[?&]' ~ name ~ '=([^&#]*)') }}, '+', ' '), '%20', ' '), '')
{%- endmacro %}

{#- The region of a locale ('en-US' -> 'US'); null when the locale has none. -#}
{% macro locale_country(locale) -%}
    upper({{ regex_extract(locale, '^[A-Za-z]{2,3}[-_]([A-Za-z]{2})$') }})
{%- endmacro %}

{#- desktop / mobile / tablet from a browser user-agent string (null when unknown). Android
    without "Mobile" is a tablet, as Google's own guidance says. -#}
{% macro user_agent_device_type(user_agent) -%}
    case
        when {{ user_agent }} is null then null
        when {{ regex_matches(user_agent, '(ipad|tablet|kindle|silk/)', ignore_case=true) }} then 'tablet'
        when {{ regex_matches(user_agent, 'android', ignore_case=true) }} and {{ regex_matches(user_agent, 'mobile', ignore_case=true, negate=true) }} then 'tablet'
        when {{ regex_matches(user_agent, '(mobi|iphone|ipod|android|windows phone)', ignore_case=true) }} then 'mobile'
        when {{ regex_matches(user_agent, '(windows|macintosh|mac os x|x11|linux|cros)', ignore_case=true) }} then 'desktop'
    end
{%- endmacro %}

{#- Browser family from a user-agent string. Order matters: Edge and Samsung Internet also
    say "Chrome", Chrome also says "Safari". Null when unknown (and for mail-client proxies). -#}
{% macro user_agent_browser(user_agent) -%}
    case
        when {{ regex_matches(user_agent, 'Edg(e|A|iOS)?/') }} then 'Edge'
        when {{ regex_matches(user_agent, 'SamsungBrowser/') }} then 'Samsung Internet'
        when {{ regex_matches(user_agent, '(OPR|Opera)/') }} then 'Opera'
        when {{ regex_matches(user_agent, '(Firefox|FxiOS)/') }} then 'Firefox'
        when {{ regex_matches(user_agent, '(Chrome|CriOS)/') }} then 'Chrome'
        when {{ regex_matches(user_agent, 'Version/[0-9.]+ (Mobile/\\S+ )?Safari/') }} then 'Safari'
    end
{%- endmacro %}

{#- Operating system from a user-agent string. -#}
{% macro user_agent_os(user_agent) -%}
    case
        when {{ regex_matches(user_agent, 'iPad') }} then 'iPadOS'
        when {{ regex_matches(user_agent, '(iPhone|iPod)') }} then 'iOS'
        when {{ regex_matches(user_agent, 'Android') }} then 'Android'
        when {{ regex_matches(user_agent, 'Windows') }} then 'Windows'
        when {{ regex_matches(user_agent, 'CrOS') }} then 'ChromeOS'
        when {{ regex_matches(user_agent, 'Mac OS X') }} then 'macOS'
        when {{ regex_matches(user_agent, 'Linux') }} then 'Linux'
    end
{%- endmacro %}

{#- Two CTEs (end them with a comma): `user_agents` parses each distinct user-agent string of
    `relation` once (a handful of regexes each), not once per event; join it on user_agent. -#}
{% macro user_agents_ctes(relation) -%}
distinct_user_agents as (
    select distinct user_agent from {{ relation }} where user_agent is not null
),

user_agents as (
    select
        user_agent,
        {{ user_agent_device_type('user_agent') }} as device_type,
        {{ user_agent_browser('user_agent') }} as browser,
        {{ user_agent_os('user_agent') }} as os
    from distinct_user_agents
)
{%- endmacro %}

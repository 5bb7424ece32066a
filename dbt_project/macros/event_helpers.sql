{#-
    Small expressions the event models share: names to snake_case, identifiers normalised the
    way identity resolution stores them, user-agent parsing, UTM parameters, money in the
    spec's numeric(10,2) and deterministic ids. Pure SQL expressions (no subqueries), so they
    inline into set-based queries.
-#}

{#- 'Order Completed' -> 'order_completed', 'orderCompleted' -> 'order_completed',
    ' Product  Viewed! ' -> 'product_viewed'. -#}
{% macro snake_case(expression) -%}
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

{#- A stable uuid from a text key: md5(key) read as a uuid (same key, same id, every build). -#}
{% macro deterministic_uuid(expression) -%}
    cast(md5({{ expression }}) as uuid)
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
        substring({{ url }} from '[?&]{{ name }}=([^&#]*)'), '+', ' '), '%20', ' '), '')
{%- endmacro %}

{#- The region of a locale ('en-US' -> 'US'); null when the locale has none. -#}
{% macro locale_country(locale) -%}
    upper(substring({{ locale }} from '^[A-Za-z]{2,3}[-_]([A-Za-z]{2})$'))
{%- endmacro %}

{#- desktop / mobile / tablet from a browser user-agent string (null when unknown). Android
    without "Mobile" is a tablet, as Google's own guidance says. -#}
{% macro user_agent_device_type(user_agent) -%}
    case
        when {{ user_agent }} is null then null
        when {{ user_agent }} ~* '(ipad|tablet|kindle|silk/)' then 'tablet'
        when {{ user_agent }} ~* 'android' and {{ user_agent }} !~* 'mobile' then 'tablet'
        when {{ user_agent }} ~* '(mobi|iphone|ipod|android|windows phone)' then 'mobile'
        when {{ user_agent }} ~* '(windows|macintosh|mac os x|x11|linux|cros)' then 'desktop'
    end
{%- endmacro %}

{#- Browser family from a user-agent string. Order matters: Edge and Samsung Internet also
    say "Chrome", Chrome also says "Safari". Null when unknown (and for mail-client proxies). -#}
{% macro user_agent_browser(user_agent) -%}
    case
        when {{ user_agent }} ~ 'Edg(e|A|iOS)?/' then 'Edge'
        when {{ user_agent }} ~ 'SamsungBrowser/' then 'Samsung Internet'
        when {{ user_agent }} ~ '(OPR|Opera)/' then 'Opera'
        when {{ user_agent }} ~ '(Firefox|FxiOS)/' then 'Firefox'
        when {{ user_agent }} ~ '(Chrome|CriOS)/' then 'Chrome'
        when {{ user_agent }} ~ 'Version/[0-9.]+ (Mobile/\S+ )?Safari/' then 'Safari'
    end
{%- endmacro %}

{#- Operating system from a user-agent string. -#}
{% macro user_agent_os(user_agent) -%}
    case
        when {{ user_agent }} ~ 'iPad' then 'iPadOS'
        when {{ user_agent }} ~ '(iPhone|iPod)' then 'iOS'
        when {{ user_agent }} ~ 'Android' then 'Android'
        when {{ user_agent }} ~ 'Windows' then 'Windows'
        when {{ user_agent }} ~ 'CrOS' then 'ChromeOS'
        when {{ user_agent }} ~ 'Mac OS X' then 'macOS'
        when {{ user_agent }} ~ 'Linux' then 'Linux'
    end
{%- endmacro %}

{#-
    Country context for phone numbers (identity resolution parses a phone with it).

    identity_country_code(expr): an ISO 3166 alpha-2 code from a country as records write it
    ('GB', 'gb', 'UK', 'United Kingdom', 'DEU', 'Deutschland'), else null. Codes are checked by
    identity resolution against libphonenumber's regions (an unknown one falls back to the
    default region).
    identity_locale_region(expr): the region subtag of a locale ('en-GB' -> 'GB', 'pt_BR' -> 'BR').
-#}
{% macro identity_country_code(expression) -%}
    {%- set names = {
        'usa': 'US', 'united states': 'US', 'united states of america': 'US', 'america': 'US',
        'uk': 'GB', 'gbr': 'GB', 'united kingdom': 'GB', 'great britain': 'GB', 'britain': 'GB',
        'england': 'GB', 'scotland': 'GB', 'wales': 'GB', 'northern ireland': 'GB',
        'can': 'CA', 'canada': 'CA', 'deu': 'DE', 'germany': 'DE', 'deutschland': 'DE',
        'fra': 'FR', 'france': 'FR', 'esp': 'ES', 'spain': 'ES', 'españa': 'ES', 'ita': 'IT',
        'italy': 'IT', 'italia': 'IT', 'nld': 'NL', 'netherlands': 'NL', 'the netherlands': 'NL',
        'irl': 'IE', 'ireland': 'IE', 'aus': 'AU', 'australia': 'AU', 'nzl': 'NZ',
        'new zealand': 'NZ', 'ind': 'IN', 'india': 'IN', 'bra': 'BR', 'brazil': 'BR', 'brasil': 'BR',
        'mex': 'MX', 'mexico': 'MX', 'méxico': 'MX', 'jpn': 'JP', 'japan': 'JP', 'chn': 'CN',
        'china': 'CN', 'che': 'CH', 'switzerland': 'CH', 'aut': 'AT', 'austria': 'AT',
        'bel': 'BE', 'belgium': 'BE', 'swe': 'SE', 'sweden': 'SE', 'nor': 'NO', 'norway': 'NO',
        'dnk': 'DK', 'denmark': 'DK', 'pol': 'PL', 'poland': 'PL', 'prt': 'PT', 'portugal': 'PT',
        'zaf': 'ZA', 'south africa': 'ZA', 'sgp': 'SG', 'singapore': 'SG'
    } -%}
    case
        when upper(btrim({{ expression }})) = 'UK' then 'GB'
        when {{ regex_matches('btrim(' ~ expression ~ ')', '^[A-Za-z]{2}$') }} then upper(btrim({{ expression }}))
        else case lower(btrim({{ expression }}))
            {%- for name, code in names.items() %}
            when '{{ name }}' then '{{ code }}'
            {%- endfor %}
        end
    end
{%- endmacro %}

{% macro identity_locale_region(expression) -%}
    upper({{ regex_extract(expression, '^[A-Za-z]{2,3}[-_]([A-Za-z]{2})(?:$|[-_.@])') }})
{%- endmacro %}

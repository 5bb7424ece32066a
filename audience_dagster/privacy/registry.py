"""Every table that holds personal data, and how to find one person's rows in it.

One :class:`PersonalTable` per table. A person's rows are found by *profile id* columns, by
*identifier* columns or JSON paths (compared after the same normalisation the identity map
applies), by *typed pairs* (an identifier-type column beside a value column) and by *free text*
that mentions one of their identifier values. Erasure deletes those rows, export returns them;
both compile their SQL here (pure: table and column names come from this static registry, values
are bound parameters). A table that does not exist yet is skipped, and a column it lacks is left
out, so a new table needs one line in :data:`PERSONAL_TABLES`.

Bound parameters of every predicate: ``profile_ids_<udt>`` (profile ids valid for a column type:
``uuid[]``, ``int8[]``, ``text[]``), ``ids_<identifier type>`` (``text[]`` of normalised values),
``id_types`` / ``id_values`` (parallel ``text[]``) and ``text_pattern`` (a regular expression).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

# Column types a profile id may be stored as, and the array type it is compared with.
PROFILE_ID_TYPES: Mapping[str, str] = {
    "uuid": "uuid",
    "int8": "int8",
    "int4": "int8",
    "text": "text",
    "varchar": "text",
}


@dataclass(frozen=True)
class Locator:
    """An SQL expression over a row that yields one identifier of ``identifier_type``."""

    identifier_type: str
    expression: str
    columns: tuple[str, ...]


def column(identifier_type: str, name: str, cast: str = "") -> Locator:
    """An identifier stored in its own column (``cast``: e.g. ``::text`` for a bigint id)."""
    return Locator(identifier_type, f"{name}{cast}", (name,))


def json_path(identifier_type: str, source: str, *path: str) -> Locator:
    """An identifier inside a JSON column, e.g. ``json_path('email', 'payload', 'traits', 'email')``."""
    return Locator(identifier_type, f"{source} #>> '{{{','.join(path)}}}'", (source,))


@dataclass(frozen=True)
class TypedPair:
    """An identifier held as (type column, value column), e.g. the identity map's own rows."""

    type_column: str
    value_column: str
    normalised: bool = False  # values already as the identity map stores them (index-friendly)


@dataclass(frozen=True)
class PersonalTable:
    """One table holding personal data.

    ``section``: where export puts its rows. ``text_columns``: free text (or JSON) searched for
    the person's identifier values. ``text_match``: what erasure does with a row that only
    *mentions* them in text: ``'delete'`` it, or ``'scrub'`` it (``scrub`` is the SET clause).
    ``mark_erased``: instead of deleting the person's rows, erasure runs this SET clause on those
    not yet ``erased`` (a condition): the profile registry keeps its ids, marked erased, with no
    personal data.
    """

    table: str
    section: str
    profile_columns: tuple[str, ...] = ()
    locators: tuple[Locator, ...] = ()
    typed_pairs: tuple[TypedPair, ...] = ()
    text_columns: tuple[str, ...] = ()
    text_match: str = "delete"
    scrub: str = ""
    mark_erased: str = ""
    erased: str = ""

    def __post_init__(self) -> None:
        if self.text_match not in ("delete", "scrub") or (self.text_match == "scrub") != bool(self.scrub):
            raise ValueError(f"{self.table}: text_match 'scrub' needs a scrub SET clause and vice versa")
        if bool(self.mark_erased) != bool(self.erased):
            raise ValueError(f"{self.table}: mark_erased needs the condition of rows already erased")


# the identifier columns of the typed events (int_events_from_<source>), as the identity map
# stores them
EVENT_IDENTIFIER_COLUMNS = (
    "user_id",
    "email",
    "shopify_customer_id",
    "email_provider_id",
    "social_handle",
    "shopify_order_id",
    "anonymous_id",
    "device_id",
)
SEGMENT_EMAILS = (("traits", "email"), ("context", "traits", "email"), ("properties", "email"))

# Order matters for erasure: tables referencing a profile come before the profile tables.
PERSONAL_TABLES: tuple[PersonalTable, ...] = (
    # activation: what each destination holds is marked, not deleted — the next sync sends the
    # person's removal to every destination that had them, then deletes the row
    PersonalTable(
        "activation.destination_members",
        "destinations",
        profile_columns=("profile_id",),
        mark_erased="erased_at = now()",
        erased="erased_at IS NOT NULL",
    ),
    PersonalTable("activation.destination_outbox", "destination_outbox", profile_columns=("profile_id",)),
    PersonalTable("activation.dead_letters", "destination_dead_letters", text_columns=("payload",)),
    PersonalTable("marts.recommendations", "recommendations", profile_columns=("profile_id",)),
    PersonalTable("marts.next_best_actions", "next_best_actions", profile_columns=("profile_id",)),
    PersonalTable("marts.price_offers", "price_offers", profile_columns=("profile_id",)),
    # marts (spec tables: profile_id, or id for audience_profiles)
    PersonalTable("marts.segment_membership", "segments", profile_columns=("profile_id",)),
    PersonalTable("marts.segment_membership_changes", "segment_history", profile_columns=("profile_id",)),
    PersonalTable("marts.cohort_membership", "cohorts", profile_columns=("profile_id",)),
    PersonalTable("marts.predictions", "predictions", profile_columns=("profile_id",)),
    PersonalTable(
        "marts.audience_events",
        "events",
        profile_columns=("profile_id",),
        locators=(column("anonymous_id", "anonymous_id"),),
    ),
    # audience_profiles is a view of these two tables
    PersonalTable("marts.profile_scores", "scores", profile_columns=("id",)),
    PersonalTable(
        "marts.audience_profile_base",
        "profile",
        profile_columns=("id",),
        locators=(column("email", "email"), column("phone", "phone")),
    ),
    # identity
    PersonalTable(
        "identity.identity_map",
        "identifiers",
        profile_columns=("profile_id", "profile_key"),
        typed_pairs=(TypedPair("identifier_type", "identifier_value", normalised=True),),
    ),
    PersonalTable(
        "identity.dropped_edges",
        "identity_links",
        typed_pairs=(TypedPair("left_type", "left_value"), TypedPair("right_type", "right_value")),
    ),
    PersonalTable(
        "identity.blocked_identifiers",
        "blocked_identifiers",
        typed_pairs=(TypedPair("identifier_type", "identifier_value"),),
    ),
    PersonalTable(
        "identity.duplicate_suggestions",
        "duplicate_suggestions",
        profile_columns=("profile_id_a", "profile_id_b"),
        text_columns=("comparisons",),
    ),
    PersonalTable(
        "identity.profile_merges",
        "merge_history",
        profile_columns=("retired_profile_id", "survivor_profile_id"),
        text_columns=("evidence",),
        text_match="scrub",
        scrub="evidence = jsonb_build_object('scrubbed', 'erasure')",
    ),
    PersonalTable(
        "identity.manual_operations",
        "manual_operations",
        profile_columns=("primary_profile_id", "secondary_profile_id"),
        text_columns=("identifiers", "other_identifiers"),
    ),
    PersonalTable(
        "identity.profiles",
        "profile",
        profile_columns=("profile_id",),
        mark_erased="status = 'erased', retired_at = coalesce(retired_at, now())",
        erased="status = 'erased'",
    ),
    # intermediate (dbt tables rebuilt from raw; deleted now so nothing waits for the next run)
    PersonalTable(
        "intermediate.int_identity_edges",
        "identity_links",
        typed_pairs=(TypedPair("left_type", "left_value"), TypedPair("right_type", "right_value")),
    ),
    PersonalTable(
        "intermediate.int_identity_identifiers",
        "identifiers_seen",
        typed_pairs=(TypedPair("identifier_type", "identifier_value"),),
    ),
    # audience_events' checkpoint: every identifier's resolution at its last build (rewritten
    # by the next build; deleted now so nothing waits for it)
    PersonalTable(
        "intermediate.int_events_checkpoint_identifiers",
        "identifiers_checkpoint",
        profile_columns=("profile_id",),
        typed_pairs=(TypedPair("identifier_type", "identifier_value", normalised=True),),
    ),
    # the per-profile tables over audience_events: kept between builds, each recomputing only
    # the profiles whose events changed (docs/incremental.md §4), so erased here
    *(
        PersonalTable(f"intermediate.int_profile_{name}", f"profile_{topic}", profile_columns=("profile_id",))
        for name, topic in (
            ("attributes_latest", "attributes"),
            ("interests_ranked", "interests"),
            ("consent_latest", "consent"),
            ("engagement_summarized", "engagement"),
            ("first_touch", "first_touch"),
            ("orders_summarized", "orders"),
            ("subscription_latest", "subscription"),
        )
    ),
    # the typed events (incremental tables: kept between builds, docs/incremental.md)
    *(
        PersonalTable(
            f"intermediate.int_events_from_{source}",
            "records",
            locators=tuple(column(kind, kind) for kind in EVENT_IDENTIFIER_COLUMNS),
        )
        for source in ("segment", "sendgrid", "shopify", "store", "social")
    ),
    # raw
    PersonalTable(
        "raw.segment_messages",
        "records",
        locators=(
            column("anonymous_id", "anonymous_id"),
            column("user_id", "user_id"),
            json_path("anonymous_id", "payload", "previousId"),
            *(json_path("email", "payload", *path) for path in SEGMENT_EMAILS),
            json_path("phone", "payload", "traits", "phone"),
            json_path("phone", "payload", "context", "traits", "phone"),
            json_path("device_id", "payload", "context", "device", "id"),
            json_path("shopify_order_id", "payload", "properties", "order_id"),
        ),
    ),
    PersonalTable(
        "raw.sendgrid_events",
        "records",
        locators=(column("email", "email"), json_path("email_provider_id", "payload", "contact_id")),
    ),
    PersonalTable(
        "raw.shopify_orders",
        "records",
        locators=(
            column("shopify_order_id", "order_id", "::text"),
            json_path("email", "payload", "email"),
            json_path("email", "payload", "customer", "email"),
            json_path("shopify_customer_id", "payload", "customer", "id"),
            json_path("phone", "payload", "customer", "phone"),
        ),
    ),
    PersonalTable("raw.shopify_line_items", "records", locators=(column("shopify_order_id", "order_id", "::text"),)),
    PersonalTable(
        "raw.social_events",
        "records",
        locators=(
            Locator("social_handle", "platform || ':' || ltrim(btrim(handle), '@')", ("platform", "handle")),
            json_path("email", "payload", "email"),
        ),
    ),
    PersonalTable(
        "raw.historical_orders",
        "records",
        locators=(
            column("shopify_order_id", "order_id"),
            column("shopify_customer_id", "customer_id"),
            column("email", "email"),
        ),
    ),
    PersonalTable("raw.quarantine", "records", text_columns=("record",)),
)


@dataclass(frozen=True)
class Predicates:
    """How to find a person's rows in one table: by who they are, and by text mentioning them."""

    identity: str | None
    text: str | None

    @property
    def any(self) -> str | None:
        parts = [p for p in (self.identity, self.text) if p]
        return " OR ".join(f"({p})" for p in parts) if parts else None


def compile_predicates(
    spec: PersonalTable,
    columns: Mapping[str, str],
    identifier_types: Collection[str],
    *,
    profile_id_types: Collection[str] = (),
    text_search: bool = False,
) -> Predicates:
    """The WHERE conditions that find a person's rows in ``spec.table``.

    ``columns``: the table's columns that exist, with their type (``udt_name``).
    ``identifier_types``: the types the person has identifiers of (locators of other types are
    left out). ``profile_id_types``: the array types (``uuid``, ``int8``, ``text``) for which
    the person has valid profile ids. ``text_search``: whether a text pattern is bound.
    """
    identity: list[str] = []
    for name in spec.profile_columns:
        udt = columns.get(name)
        kind = PROFILE_ID_TYPES.get(udt or "")
        if kind and kind in profile_id_types:
            cast = "::text" if udt != kind and kind == "text" else ""
            identity.append(f"{name}{cast} = ANY(%(profile_ids_{kind})s::{kind}[])")
    for locator in spec.locators:
        if locator.identifier_type in identifier_types and all(c in columns for c in locator.columns):
            kind = locator.identifier_type
            identity.append(
                f"privacy.normalize_identifier('{kind}', {locator.expression}) = ANY(%(ids_{kind})s::text[])"
            )
    if identifier_types:
        for pair in spec.typed_pairs:
            if pair.type_column in columns and pair.value_column in columns:
                value = (
                    pair.value_column
                    if pair.normalised
                    else f"privacy.normalize_identifier({pair.type_column}, {pair.value_column})"
                )
                identity.append(
                    f"({pair.type_column}, {value}) IN"
                    " (SELECT * FROM unnest(%(id_types)s::text[], %(id_values)s::text[]))"
                )
    text = [f"lower({name}::text) ~ %(text_pattern)s" for name in spec.text_columns if name in columns and text_search]
    return Predicates(
        identity=" OR ".join(identity) if identity else None,
        text=" OR ".join(text) if text else None,
    )

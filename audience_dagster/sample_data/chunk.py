"""One chunk of people, end to end: simulate, serialise, inject faults, write part files.

A chunk depends only on (parameters, chunk index): its random streams are spawned from
``np.random.default_rng([seed, chunk])``, its people have global ids, and it writes its own
part files — so the output is byte-identical whatever the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from audience_dagster.sample_data import faults
from audience_dagster.sample_data.catalog import build_catalog
from audience_dagster.sample_data.devices import simulate_devices
from audience_dagster.sample_data.params import GenerationParams
from audience_dagster.sample_data.population import simulate_population
from audience_dagster.sample_data.purchases import Orders, select, simulate_purchases
from audience_dagster.sample_data.segment import SegmentLines, serialise_segment
from audience_dagster.sample_data.segment_calls import MessagePlan, plan_messages
from audience_dagster.sample_data.sendgrid import SendgridLines, campaign_schedule, simulate_sendgrid
from audience_dagster.sample_data.sessions import simulate_sessions
from audience_dagster.sample_data.shopify import (
    CSV_HEADER,
    StoreLines,
    historical_order_rows,
    shopify_order_lines,
)
from audience_dagster.sample_data.site_activity import simulate_page_views
from audience_dagster.sample_data.social import SocialLines, simulate_social
from audience_dagster.sample_data.truth import (
    Exposure,
    holdout_rows,
    identifier_rows,
    people_rows,
    write_fragment,
)

SOURCES = (
    "segment_messages",
    "sendgrid_events",
    "shopify_orders",
    "social_events",
    "historical_order_rows",
)
LANDING_DIRS = {
    "segment_messages": "segment",
    "sendgrid_events": "sendgrid",
    "shopify_orders": "shopify",
    "social_events": "social",
    "historical_order_rows": "historical_orders",
}
DUPLICATE_RATES = {"segment_messages": 0.002, "sendgrid_events": 0.001}
PARTS_DIR = ".parts"
FAULT_RULES: dict[str, tuple[Callable[[np.random.Generator, str, str], str], tuple[str, ...]]] = {
    "segment_messages": (partial(faults.break_json_line, faults=faults.SEGMENT), faults.SEGMENT.kinds),
    "sendgrid_events": (partial(faults.break_json_line, faults=faults.SENDGRID), faults.SENDGRID.kinds),
    "shopify_orders": (partial(faults.break_json_line, faults=faults.SHOPIFY), faults.SHOPIFY.kinds),
    "social_events": (partial(faults.break_json_line, faults=faults.SOCIAL), faults.SOCIAL.kinds),
    "historical_order_rows": (faults.break_csv_row, (faults.BAD_DATE, faults.BAD_AMOUNT)),
}


def part_name(source: str, chunk: int) -> str:
    """File name of a chunk's part file, relative to ``landing/``."""
    if source == "historical_order_rows":
        return f"historical_orders/orders-{chunk:05d}.csv"
    return f"{LANDING_DIRS[source]}/part-{chunk:05d}.jsonl"


@dataclass(frozen=True)
class ChunkTask:
    params: GenerationParams
    chunk: int
    out_dir: str


@dataclass(frozen=True)
class ChunkResult:
    chunk: int
    counts: dict[str, int]
    duplicates: dict[str, int]
    malformed: dict[str, int]
    files: list[str]  # relative to out_dir
    junk: set[tuple[str, str]]


def _write_lines(path: Path, lines: list[str], header: str | None = None) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        if header is not None:
            f.write(header + "\n")
        for start in range(0, len(lines), 100_000):
            block = lines[start : start + 100_000]
            if block:
                f.write("\n".join(block))
                f.write("\n")


def _write_with_faults(
    rng: np.random.Generator, source: str, lines: list[str], path: Path, malformed_rate: float
) -> faults.FaultyFile:
    """Inject the source's duplicates and malformed lines, then write the part file."""
    breaker, kinds = FAULT_RULES[source]
    is_csv = source == "historical_order_rows"
    result = faults.inject_faults(
        rng, lines, DUPLICATE_RATES.get(source, 0.0), malformed_rate, breaker, kinds, header_lines=int(is_csv)
    )
    _write_lines(path, result.lines, CSV_HEADER if is_csv else None)
    return result


def _write_landing(
    fault_rng: np.random.Generator, sources: dict[str, list[str]], landing: Path, chunk: int, malformed_rate: float
) -> tuple[dict[str, int], dict[str, int], dict[str, int], list[str], list[str]]:
    """Write each source's lines of this chunk with the usual faults; (lines, duplicates and
    malformed records per source, the files written, the truth rows of the malformed records)."""
    counts, duplicates, malformed, files, malformed_rows = {}, {}, {}, [], []
    for source, lines in sources.items():
        name = part_name(source, chunk)
        result = _write_with_faults(fault_rng, source, lines, landing / name, malformed_rate)
        counts[source] = len(lines)
        duplicates[source] = result.duplicates
        malformed[source] = len(result.malformed)
        files.append(f"landing/{name}")
        malformed_rows += [f"{LANDING_DIRS[source]},{name},{line},{kind}" for line, kind in result.malformed]
    return counts, duplicates, malformed, files, malformed_rows


def _exposure(
    plan: MessagePlan,
    segment: SegmentLines,
    sendgrid: SendgridLines,
    shopify: StoreLines,
    historical: StoreLines,
    social: SocialLines,
    shopify_orders: Orders,
    web_orders: Orders,
    old_orders: Orders,
    shopify_from: int,
) -> Exposure:
    """Which identifiers of which people the chunk's files show (the truth's identifiers)."""
    completed = web_orders.at >= shopify_from
    return Exposure(
        anonymous_pairs=segment.anonymous_pairs,
        device_pairs=segment.device_pairs,
        handle_pairs=social.handle_pairs,
        user_id=[segment.user_id_persons],
        email=[
            plan.email_shown,
            sendgrid.persons,
            shopify.email_persons,
            historical.email_persons,
            social.email_persons,
        ],
        phone=[plan.phone_shown, shopify.phone_persons],
        customer_id=[shopify.customer_persons, historical.customer_persons],
        contact_id=[sendgrid.persons],
        order_ids=[
            (shopify_orders.order_id, shopify_orders.person),
            (web_orders.order_id[completed], web_orders.person[completed]),
            (old_orders.order_id[historical.order_rows], old_orders.person[historical.order_rows]),
        ],
    )


def run_chunk(task: ChunkTask) -> ChunkResult:
    params, chunk = task.params, task.chunk
    out_dir = Path(task.out_dir)
    window = params.window
    catalog = build_catalog(params.seed)
    campaigns = campaign_schedule(params.seed, window)
    streams = np.random.default_rng([params.seed, chunk]).spawn(12)
    start, stop = params.chunk_bounds(chunk)
    index = np.arange(start, stop, dtype=np.int64)

    pop = simulate_population(streams[0], index, params.people, window)
    history = simulate_purchases(streams[1], pop, window, catalog)
    devices = simulate_devices(streams[2], pop)
    orders = history.orders
    observed = orders.at < window.end
    web_orders = select(orders, observed & orders.web_twin)
    sessions, ident = simulate_sessions(streams[3], pop, devices, web_orders, window)
    views = simulate_page_views(streams[4], sessions, pop, catalog, web_orders)
    plan = plan_messages(streams[5], sessions, views, pop, devices, catalog, web_orders, ident, window)
    segment = serialise_segment(streams[6], plan, sessions, views, pop, devices, catalog)
    sendgrid = simulate_sendgrid(streams[7], pop, devices, ident, campaigns, window, seed_list=chunk == 0)
    shopify_orders = select(orders, observed & (orders.at >= window.shopify_from))
    shopify = shopify_order_lines(
        streams[8],
        shopify_orders,
        pop,
        ident,
        history.first_order_at,
        catalog,
        chunk,
        params.chunks,
    )
    old_orders = select(orders, orders.at < window.shopify_from)
    historical = historical_order_rows(streams[9], old_orders, pop)
    social = simulate_social(streams[10], pop, window)

    exposure = _exposure(
        plan,
        segment,
        sendgrid,
        shopify,
        historical,
        social,
        shopify_orders,
        web_orders,
        old_orders,
        window.shopify_from,
    )

    fault_rng = streams[11]
    landing = out_dir / "landing"
    sources = {
        "segment_messages": segment.lines,
        "sendgrid_events": sendgrid.lines,
        "shopify_orders": shopify.lines,
        "social_events": social.lines,
        "historical_order_rows": historical.lines,
    }
    counts, duplicates, malformed, files, malformed_rows = _write_landing(
        fault_rng, sources, landing, chunk, params.malformed_rate
    )

    parts = out_dir / "truth" / PARTS_DIR
    write_fragment(parts, "identifiers", chunk, identifier_rows(exposure, pop, devices))
    write_fragment(parts, "people", chunk, people_rows(pop, history, window))
    write_fragment(parts, "holdout_orders", chunk, holdout_rows(pop, history, window))
    write_fragment(parts, "malformed", chunk, malformed_rows)
    return ChunkResult(
        chunk=chunk,
        counts=counts,
        duplicates=duplicates,
        malformed=malformed,
        files=files,
        junk=plan.junk | segment.junk | sendgrid.junk | shopify.junk,
    )

"""``audience serve``: the collector and profile API on uvicorn (one process, one event loop).

One worker on purpose: the spool is one group-committed file per source (more processes would
need one spool each, see docs/collector.md), and one asyncio worker keeps the 20,000 events/s
target on a 2-core machine with a core left for PostgreSQL. SIGINT/SIGTERM shut down
gracefully: the open spool files are synced and published.
"""

from __future__ import annotations

import logging

import uvicorn

from audience_dagster.collector.app import create_app
from audience_dagster.config import Settings

LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "audience.collector": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


def run_server(settings: Settings, warehouse_url: str, *, access_log: bool = True) -> None:
    """Serve until SIGINT/SIGTERM (blocking)."""
    collector = settings.collector
    logging.getLogger("audience.collector.access").setLevel(logging.INFO if access_log else logging.WARNING)
    app = create_app(collector, settings.landing_dir, warehouse_url)
    config = uvicorn.Config(
        app,
        host=collector.host,
        port=collector.port,
        access_log=False,  # ours has no client addresses or query strings (personal data)
        log_config=LOG_CONFIG,
        lifespan="on",
        http="httptools",
        loop="uvloop",
        timeout_graceful_shutdown=10,
        server_header=False,
    )
    uvicorn.Server(config).run()

"""Connections the service holds for its lifetime, opened at start-up and closed at shutdown.

Shutdown (R4): uvicorn stops accepting connections on SIGTERM, lets in-flight requests finish
(up to `--timeout-graceful-shutdown`), then runs the lifespan's exit: background jobs stop
first, then outbound clients, Redis and the database pool close. Readiness answers 503 from
the moment SIGTERM arrives (`Resources.shutdown`), so a load balancer still probing the pod
takes it out of rotation at once.
"""

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from types import FrameType

import structlog
from fastapi import FastAPI, Request
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ..settings import Settings, load_settings
from .app_state import app_state
from .cache import ReadCache
from .db import create_engine, create_read_session_factory, create_session_factory
from .http_client import OutboundClient, outbound_services
from .logging import configure_logging
from .query_timing import instrument_queries
from .redis import create_redis
from .resilience_metrics import ResilienceMetrics

logger = structlog.stdlib.get_logger(__name__)


@dataclass(frozen=True)
class Resources:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    # Autocommit sessions for routes that only read (db.create_read_session_factory).
    read_session_factory: async_sessionmaker[AsyncSession]
    redis: Redis
    metrics: ResilienceMetrics
    cache: ReadCache
    # External services by name (see http_client.outbound_services).
    outbound: dict[str, OutboundClient]
    # Set when SIGTERM arrives: the process is draining and no longer ready.
    shutdown: asyncio.Event = field(default_factory=asyncio.Event)


# Runs beside the app for its lifetime, e.g. the job scheduler: entered after the resources
# open, exited before they close.
BackgroundService = Callable[[Resources], AbstractAsyncContextManager[None]]


@asynccontextmanager
async def open_resources(
    settings: Settings, metrics: ResilienceMetrics
) -> AsyncIterator[Resources]:
    # Nothing connects here: pools connect on first use, so the process starts (and its
    # liveness probe answers) while PostgreSQL or Redis are still coming up.
    engine = create_engine(settings)
    instrument_queries(engine, metrics.query_duration, settings.db_slow_query_threshold_ms)
    redis = create_redis(settings)
    outbound = {
        name: OutboundClient(name, url, settings, metrics)
        for name, url in outbound_services(settings).items()
    }
    cache = ReadCache(redis, metrics, settings.cache_ttl_seconds)
    try:
        yield Resources(
            settings,
            engine,
            create_session_factory(engine),
            create_read_session_factory(engine),
            redis,
            metrics,
            cache,
            outbound,
        )
    finally:
        for client in outbound.values():
            await client.aclose()
        await redis.aclose()
        await engine.dispose()


def run_once(job: Callable[[Resources], Awaitable[object]]) -> int:
    """Run a periodic job once from the command line (cron, a Kubernetes CronJob); exit 0.

    The settings come from the environment as the service's do; metrics stay in the process.
    """

    async def run() -> None:
        settings = load_settings()
        configure_logging(settings.log_level)
        async with open_resources(settings, ResilienceMetrics(CollectorRegistry())) as resources:
            await job(resources)

    asyncio.run(run())
    return 0


def _flag_shutdown_on_sigterm(shutdown: asyncio.Event) -> Callable[[], None]:
    """Chain onto the server's SIGTERM handler; returns the function that undoes it.

    Only when a Python handler is installed (uvicorn's): under a test runner or in a thread
    there is nothing to chain to, and SIGTERM keeps its default meaning.
    """
    try:
        previous = signal.getsignal(signal.SIGTERM)
    except ValueError:
        return lambda: None
    if not callable(previous):
        return lambda: None

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        shutdown.set()
        logger.info("shutdown_requested", signal="SIGTERM")
        previous(signum, frame)

    try:
        signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # not the main thread
        return lambda: None

    def restore() -> None:
        with contextlib.suppress(ValueError):
            if signal.getsignal(signal.SIGTERM) is on_sigterm:
                signal.signal(signal.SIGTERM, previous)

    return restore


def lifespan(
    settings: Settings,
    metrics: ResilienceMetrics,
    background: BackgroundService | None = None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: resources open before the first request and close after the last."""

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        async with open_resources(settings, metrics) as resources:
            app.state.resources = resources
            restore_sigterm = _flag_shutdown_on_sigterm(resources.shutdown)
            try:
                if background is None:
                    yield
                else:
                    async with background(resources):
                        yield
            finally:
                resources.shutdown.set()
                restore_sigterm()

    return run


def get_resources(request: Request) -> Resources:
    return app_state(request.scope, "resources", Resources)

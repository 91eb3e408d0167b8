"""Connections the service holds for its lifetime, opened at start-up and closed at shutdown."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ..settings import Settings
from .db import create_engine, create_session_factory
from .redis import create_redis


@dataclass(frozen=True)
class Resources:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    redis: Redis


@asynccontextmanager
async def open_resources(settings: Settings) -> AsyncIterator[Resources]:
    # Nothing connects here: pools connect on first use, so the process starts (and its
    # liveness probe answers) while PostgreSQL or Redis are still coming up.
    engine = create_engine(settings)
    redis = create_redis(settings)
    try:
        yield Resources(settings, engine, create_session_factory(engine), redis)
    finally:
        await redis.aclose()
        await engine.dispose()


def lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: resources open before the first request and close after the last."""

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        async with open_resources(settings) as resources:
            app.state.resources = resources
            yield

    return run


def get_resources(request: Request) -> Resources:
    resources = request.app.state.resources
    if not isinstance(resources, Resources):  # a wiring error, not a runtime condition
        msg = "application resources are not open: run the app inside its lifespan"
        raise TypeError(msg)
    return resources

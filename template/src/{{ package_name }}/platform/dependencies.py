"""Typed FastAPI dependencies on the service's resources, for routes to declare.

The request's session is the unit of work: `SessionDep` opens a transaction, the route and the
services it calls only add and flush, and the dependency commits once the route returns. Its
scope is "function", so the commit happens before the response is sent: a client never sees
success for a write that did not commit. A route that only reads takes `ReadSessionDep` (no
transaction round trips); one that usually answers without PostgreSQL (a cached read) takes
`SessionFactoryDep` and opens a session only when it needs one.

Every dependency here is `async def`: FastAPI runs a plain `def` dependency in a worker thread,
a thread hand-off per request for what is an attribute read.
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .cache import ReadCache
from .resources import get_resources


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_resources(request).session_factory() as session, session.begin():
        yield session


SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_resources(request).read_session_factory() as session:
        yield session


# For routes that only read: no transaction, so no BEGIN and COMMIT round trips. A route that
# writes anything takes SessionDep.
ReadSessionDep = Annotated[AsyncSession, Depends(_read_session)]


async def _session_factory(request: Request) -> async_sessionmaker[AsyncSession]:
    return get_resources(request).session_factory


SessionFactoryDep = Annotated[async_sessionmaker[AsyncSession], Depends(_session_factory)]


async def _cache(request: Request) -> ReadCache:
    return get_resources(request).cache


CacheDep = Annotated[ReadCache, Depends(_cache)]

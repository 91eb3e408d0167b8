"""Typed FastAPI dependencies on the service's resources, for routes to declare.

The request's session is the unit of work: `SessionDep` opens a transaction, the route and the
services it calls only add and flush, and the dependency commits once the route returns. Its
scope is "function", so the commit happens before the response is sent: a client never sees
success for a write that did not commit.
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from .cache import ReadCache
from .resources import get_resources


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_resources(request).session_factory() as session, session.begin():
        yield session


SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]


def _cache(request: Request) -> ReadCache:
    return get_resources(request).cache


CacheDep = Annotated[ReadCache, Depends(_cache)]

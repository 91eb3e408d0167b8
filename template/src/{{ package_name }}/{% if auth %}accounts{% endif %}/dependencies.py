"""`CurrentUser`: the user of the request's bearer access token, or a 401."""

from typing import Annotated
from uuid import UUID

from fastapi import Depends, HTTPException, Request, status

from ..platform.resources import get_resources
from ..platform.tokens import InvalidTokenError, bearer_token, request_token_subject
from . import service
from .models import User

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}


def unauthorized(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message, headers=UNAUTHORIZED_HEADERS)


async def _current_user(request: Request) -> User:
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise unauthorized("Send an access token: Authorization: Bearer <token>.")
    try:
        subject = request_token_subject(request.scope, get_resources(request).settings, token)
        user_id = UUID(subject)
    except (InvalidTokenError, ValueError):
        raise unauthorized("The access token is invalid or expired.") from None
    # A short read of its own (autocommit, the connection back in the pool at once): the route's
    # unit of work takes its connection after this one is returned, never both at a time.
    async with get_resources(request).read_session_factory() as session:
        user = await service.get_user(session, user_id)
    if user is None:
        raise unauthorized("The access token is invalid or expired.")
    return user


CurrentUser = Annotated[User, Depends(_current_user)]

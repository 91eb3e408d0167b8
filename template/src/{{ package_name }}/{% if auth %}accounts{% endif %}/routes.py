from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse

from ..about import API_PREFIX
from ..platform.dependencies import SessionDep, SessionFactoryDep
from ..platform.errors import ErrorResponse, documented_errors, error_response
from ..platform.rate_limit import enforce, get_rate_limiter
from ..platform.resources import get_resources
from . import service
from .dependencies import UNAUTHORIZED_HEADERS, CurrentUser, unauthorized
from .schemas import LoginRequest, RefreshRequest, RegisterRequest, TokenResponse, UserRead

router = APIRouter(
    prefix=f"{API_PREFIX}/auth",
    tags=["auth"],
    responses=documented_errors(),
)
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Not authenticated"}
}


def _tokens(pair: service.TokenPair) -> TokenResponse:
    return TokenResponse(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
        refresh_expires_in=pair.refresh_expires_in,
    )


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"model": ErrorResponse, "description": "E-mail already registered"}},
)
async def register(data: RegisterRequest, request: Request, session: SessionDep) -> UserRead:
    limiter = get_rate_limiter(request)
    await enforce(request, limiter.register, limiter.identity(request.scope))
    try:
        user = await service.register(session, data.email, data.password)
    except service.EmailAlreadyRegisteredError:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "An account with this e-mail already exists."
        ) from None
    return UserRead.model_validate(user)


@router.post("/login", responses=UNAUTHORIZED)
async def login(
    data: LoginRequest, request: Request, sessions: SessionFactoryDep, session: SessionDep
) -> TokenResponse:
    limiter = get_rate_limiter(request)
    # Per address against password spraying, per account against guessing one password.
    await enforce(request, limiter.login_client, limiter.identity(request.scope))
    await enforce(request, limiter.login_account, f"account:{data.email}")
    # `session` (the unit of work that issues the tokens) opens no connection before its first
    # statement, after the password check.
    user = await service.authenticate(sessions, data.email, data.password)
    if user is None:
        raise unauthorized("The e-mail or the password is wrong.")
    settings = get_resources(request).settings
    return _tokens(await service.start_session(session, settings, user))


@router.post("/refresh", response_model=TokenResponse, responses=UNAUTHORIZED)
async def refresh(data: RefreshRequest, request: Request, session: SessionDep) -> Response:
    settings = get_resources(request).settings
    pair = await service.rotate(session, settings, data.refresh_token)
    if pair is None:
        # Returned, not raised: a reuse revokes the token family, and that must commit.
        return error_response(
            getattr(request.state, "request_id", None),
            status.HTTP_401_UNAUTHORIZED,
            "unauthorized",
            "The refresh token is invalid, expired or revoked; log in again.",
            headers=UNAUTHORIZED_HEADERS,
        )
    return JSONResponse(_tokens(pair).model_dump(mode="json"))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(data: RefreshRequest, session: SessionDep) -> None:
    await service.logout(session, data.refresh_token)


@router.get("/me", responses=UNAUTHORIZED)
async def me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)

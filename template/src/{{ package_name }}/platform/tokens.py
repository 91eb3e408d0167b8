"""Short-lived signed access tokens (JWT, HS256 with `SECRET_KEY`).

An access token proves who the caller is without a database read, so it cannot be revoked:
it lives `ACCESS_TOKEN_MINUTES` and no longer. Revocable sessions are the refresh tokens of the
accounts package, stored hashed in PostgreSQL.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from starlette.types import Scope

from ..settings import Settings

ALGORITHM = "HS256"
# Leeway for clocks of different replicas that disagree by a little.
CLOCK_SKEW_SECONDS = 10


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int  # seconds


class InvalidTokenError(Exception):
    """The token is expired, forged, malformed or not an access token."""


def create_access_token(settings: Settings, subject: str) -> AccessToken:
    now = datetime.now(UTC)
    lifetime = timedelta(minutes=settings.access_token_minutes)
    claims = {
        "sub": subject,
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
        "typ": "access",
    }
    token = jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)
    return AccessToken(token=token, expires_in=int(lifetime.total_seconds()))


def access_token_subject(settings: Settings, token: str) -> str:
    """The subject of a valid access token; InvalidTokenError otherwise."""
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            # One algorithm, never read from the token itself ("alg": "none" attacks).
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub", "jti"]},
            leeway=CLOCK_SKEW_SECONDS,
        )
    except jwt.PyJWTError as exc:
        raise InvalidTokenError(str(exc)) from exc
    subject = claims.get("sub")
    if claims.get("typ") != "access" or not isinstance(subject, str):
        msg = "not an access token"
        raise InvalidTokenError(msg)
    return subject


def request_token_subject(scope: Scope, settings: Settings, token: str) -> str:
    """`access_token_subject`, verified once per request: the rate limiter (who is calling?) and
    the route's user dependency both ask, and a verification is a signature check."""
    state = scope.setdefault("state", {})
    verified = state.get("verified_access_token")
    if verified is not None and verified[0] == token:
        subject: str = verified[1]
        return subject
    subject = access_token_subject(settings, token)
    state["verified_access_token"] = (token, subject)
    return subject


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value, None for anything else."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None

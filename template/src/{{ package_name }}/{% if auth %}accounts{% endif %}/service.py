"""Accounts: registration, credentials, refresh-token sessions. Takes a session, knows no HTTP.

Password hashing is slow and may wait behind other logins for the hashing pool: it never runs
while a database connection is held, or a login storm would hold the whole pool and starve
every other request. Registration hashes before its first statement; a login reads the user in
a short session of its own, then verifies with no connection held.

Refresh tokens are random, stored as their sha256, and single-use: each refresh revokes the
token it was given and issues the next one of the same family. Presenting a revoked token
again means it was stolen (or replayed): the whole family is revoked, logging out both holders.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..platform import passwords
from ..platform.tokens import create_access_token
from ..settings import Settings
from .models import RefreshToken, User


class EmailAlreadyRegisteredError(Exception):
    pass


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def register(session: AsyncSession, email: str, password: str) -> User:
    password_hash = await passwords.hash_password(password)  # before the first statement
    if await session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailAlreadyRegisteredError(email)
    user = User(email=email, password_hash=password_hash)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # registered concurrently, between the check and the insert
        raise EmailAlreadyRegisteredError(email) from exc
    await session.refresh(user)
    return user


async def authenticate(
    sessions: async_sessionmaker[AsyncSession], email: str, password: str
) -> User | None:
    """The user these credentials belong to, or None; both paths cost one hash verification.
    Each database step has its own short session: none is open while the hash is verified."""
    async with sessions() as session:
        user = await session.scalar(select(User).where(User.email == email))
    if user is None:
        await passwords.verify_against_dummy(password)
        return None
    valid, updated_hash = await passwords.verify_and_update(password, user.password_hash)
    if not valid:
        return None
    if updated_hash is not None:  # parameters or algorithm changed since this hash was made
        async with sessions.begin() as session:
            await session.execute(
                update(User).where(User.id == user.id).values(password_hash=updated_hash)
            )
        user.password_hash = updated_hash
    return user


async def get_user(session: AsyncSession, user_id: UUID) -> User | None:
    return await session.get(User, user_id)


async def start_session(session: AsyncSession, settings: Settings, user: User) -> TokenPair:
    return await _issue(session, settings, user.id, family_id=uuid.uuid4())


async def _issue(
    session: AsyncSession, settings: Settings, user_id: UUID, *, family_id: UUID
) -> TokenPair:
    raw = secrets.token_urlsafe(32)
    lifetime = timedelta(days=settings.refresh_token_days)
    session.add(
        RefreshToken(
            user_id=user_id,
            family_id=family_id,
            token_hash=_digest(raw),
            expires_at=datetime.now(UTC) + lifetime,
        )
    )
    await session.flush()
    access = create_access_token(settings, str(user_id))
    return TokenPair(access.token, access.expires_in, raw, int(lifetime.total_seconds()))


async def rotate(session: AsyncSession, settings: Settings, raw: str) -> TokenPair | None:
    """The next token pair for a valid refresh token; None (after any revocation) otherwise."""
    query = select(RefreshToken).where(RefreshToken.token_hash == _digest(raw)).with_for_update()
    token = await session.scalar(query)
    if token is None:
        return None
    now = datetime.now(UTC)
    if token.revoked_at is not None:
        await _revoke_family(session, token.family_id, now)
        return None
    if token.expires_at <= now:
        return None
    token.revoked_at = now
    return await _issue(session, settings, token.user_id, family_id=token.family_id)


async def logout(session: AsyncSession, raw: str) -> None:
    """Revoke the session (token family) this refresh token belongs to; unknown ones are ignored."""
    query = select(RefreshToken).where(RefreshToken.token_hash == _digest(raw))
    token = await session.scalar(query)
    if token is not None:
        await _revoke_family(session, token.family_id, datetime.now(UTC))


async def _revoke_family(session: AsyncSession, family_id: UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )

"""Deletes refresh tokens long past their expiry, so the table does not grow without bound.

A spent or revoked token is kept until it has expired and a grace day has passed: while it
could still be presented, it must be found, because presenting a spent token revokes its
whole family (accounts/service.py). Runs as the `purge_refresh_tokens` background job (with
background_jobs) and as `python -m <package> purge-refresh-tokens` from cron otherwise.
"""

import argparse
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import delete, select

from ..platform.resources import Resources, run_once
from .models import RefreshToken

logger = structlog.stdlib.get_logger(__name__)

GRACE = timedelta(days=1)
# Rows per statement: short transactions, so logins and refreshes never wait long on a purge.
BATCH_SIZE = 1000
PURGE_INTERVAL_SECONDS = 3600


async def purge_expired_refresh_tokens(
    resources: Resources, now: datetime | None = None, batch_size: int = BATCH_SIZE
) -> int:
    """Delete, batch by batch, every token that expired over GRACE ago; the number deleted."""
    cutoff = (now or datetime.now(UTC)) - GRACE
    expired = select(RefreshToken.id).where(RefreshToken.expires_at < cutoff).limit(batch_size)
    purged = 0
    while True:
        async with resources.session_factory() as session, session.begin():
            batch = await session.scalars(
                delete(RefreshToken).where(RefreshToken.id.in_(expired)).returning(RefreshToken.id)
            )
            deleted = len(batch.all())
        purged += deleted
        if deleted < batch_size:
            break
    logger.info("refresh_tokens_purged", purged=purged)
    return purged


def _run(_: argparse.Namespace) -> int:
    return run_once(purge_expired_refresh_tokens)


def add_command(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    command = commands.add_parser(
        "purge-refresh-tokens", help="delete refresh tokens that expired over a day ago"
    )
    command.set_defaults(run=_run)

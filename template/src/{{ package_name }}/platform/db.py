"""PostgreSQL access: the declarative base, the async engine and its pool, sessions."""

import sqlalchemy.ext.asyncio
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase

from ..about import SERVICE_NAME
from ..settings import Settings

# Deterministic constraint names, so that Alembic can drop what it created.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The newest Alembic revision this code ships: /health/startup is 503 until the database has it.
# tests/integration/test_startup_probe.py fails when a new migration does not update it.
SCHEMA_HEAD_REVISION = "0001"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(settings: Settings) -> AsyncEngine:
    # Looked up at call time, so that instrumentation (OpenTelemetry) that wraps it applies.
    return sqlalchemy.ext.asyncio.create_async_engine(
        settings.database_url.get_secret_value(),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_recycle=settings.db_pool_recycle_seconds,
        # A connection killed by a database restart is replaced instead of failing a request.
        pool_pre_ping=True,
        connect_args={
            "timeout": settings.db_connect_timeout_seconds,
            "server_settings": {
                "application_name": SERVICE_NAME,
                "statement_timeout": str(settings.db_statement_timeout_ms),
            },
        },
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Objects stay readable after commit, when the route serialises them.
    return async_sessionmaker(engine, expire_on_commit=False)

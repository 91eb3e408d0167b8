"""Service configuration: one class, read from environment variables and secret files.

Precedence, highest first: environment variables, the `.env` file (local development only),
then one file per setting in the secrets directory (`SECRETS_DIR`, by default `/run/secrets`),
which is where a Kubernetes Secret is mounted. Names are case-insensitive: `DATABASE_URL`
in the environment and a file called `database_url` both set `database_url`.
Every setting is documented in `.env.example`.
"""

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRETS_DIR = Path("/run/secrets")
POSTGRES_SCHEMES = ("postgresql+asyncpg", "postgresql", "postgres")
REDIS_SCHEMES = ("redis", "rediss", "unix")

PositiveSeconds = Annotated[float, Field(gt=0)]


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    # --- Service --------------------------------------------------------------------------------
    environment: Environment = Environment.DEVELOPMENT
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    # --- PostgreSQL ---------------------------------------------------------------------------
    # Pool sizing: https://docs.sqlalchemy.org/en/20/core/pooling.html
    # Each replica holds up to db_pool_size + db_max_overflow connections: keep
    # replicas * (pool_size + max_overflow) below the server's max_connections.
    database_url: str
    db_pool_size: Annotated[int, Field(ge=1)] = 20
    db_max_overflow: Annotated[int, Field(ge=0)] = 10
    db_pool_timeout_seconds: PositiveSeconds = 10.0
    # Recycle before server-side or proxy idle timeouts (PgBouncer, cloud NAT) close them.
    db_pool_recycle_seconds: Annotated[int, Field(ge=1)] = 1800
    # Server-side cap on any single statement; 0 disables it.
    db_statement_timeout_ms: Annotated[int, Field(ge=0)] = 5000
    db_connect_timeout_seconds: PositiveSeconds = 5.0

    # --- Redis ----------------------------------------------------------------------------------
    # https://redis.readthedocs.io/en/stable/connections.html
    redis_url: str
    redis_socket_timeout_seconds: PositiveSeconds = 2.0
    redis_connect_timeout_seconds: PositiveSeconds = 2.0
    redis_max_connections: Annotated[int, Field(ge=1)] = 50

    # --- Probes -------------------------------------------------------------------------------
    # Each readiness check must answer within this time; keep it below the probe's timeout.
    readiness_timeout_seconds: PositiveSeconds = 2.0

    # --- Resilience -----------------------------------------------------------------------------
    # Statements slower than this are logged (name and first line, never parameters).
    db_slow_query_threshold_ms: Annotated[float, Field(ge=0)] = 200.0
    # Outbound HTTP (platform/http_client.py): per-call timeouts, pool size and retries.
    http_connect_timeout_seconds: PositiveSeconds = 2.0
    http_read_timeout_seconds: PositiveSeconds = 5.0
    http_max_connections: Annotated[int, Field(ge=1)] = 20
    http_retry_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    # Longest backoff between two attempts, also the cap on an honoured Retry-After.
    http_retry_max_wait_seconds: PositiveSeconds = 10.0
    # The breaker opens after this many failed calls in a row and half-opens after the cool-down.
    circuit_breaker_failure_threshold: Annotated[int, Field(ge=1)] = 5
    circuit_breaker_reset_seconds: PositiveSeconds = 30.0
    # Redis read cache (platform/cache.py).
    cache_ttl_seconds: Annotated[int, Field(ge=1)] = 300
    # Market data source: "static" (built in, offline) or "http" (MARKET_PROVIDER_URL).
    market_provider: Literal["static", "http"] = "static"
    market_provider_url: str = ""
    # Background jobs (rendered with background_jobs): run them in this process, how often.
    jobs_enabled: bool = True
    market_sync_interval_seconds: PositiveSeconds = 60.0

    @model_validator(mode="after")
    def _http_provider_needs_a_url(self) -> "Settings":
        if self.market_provider == "http" and not self.market_provider_url.startswith(
            ("http://", "https://")
        ):
            msg = "MARKET_PROVIDER=http needs MARKET_PROVIDER_URL, an http:// or https:// URL"
            raise ValueError(msg)
        return self

    @field_validator("database_url")
    @classmethod
    def _require_postgresql_with_asyncpg(cls, url: str) -> str:
        scheme, rest = _split_scheme(url)
        if scheme not in POSTGRES_SCHEMES:
            msg = (
                f"DATABASE_URL must be a PostgreSQL URL such as "
                f"postgresql+asyncpg://user:password@host:5432/dbname, got scheme {scheme!r}; "
                "SQLite and other databases are not supported"
            )
            raise ValueError(msg)
        # Platform tooling hands out postgres:// or postgresql:// URLs; the service talks asyncpg.
        return f"postgresql+asyncpg://{rest}"

    @field_validator("redis_url")
    @classmethod
    def _require_redis_url(cls, url: str) -> str:
        scheme, _ = _split_scheme(url)
        if scheme not in REDIS_SCHEMES:
            msg = (
                "REDIS_URL must be a Redis URL such as redis://host:6379/0 "
                f"(rediss:// for TLS), got scheme {scheme!r}"
            )
            raise ValueError(msg)
        return url


def _split_scheme(url: str) -> tuple[str, str]:
    scheme, separator, rest = url.partition("://")
    return (scheme, rest) if separator else ("", url)


def load_settings() -> Settings:
    """Read the settings, including secret files when the secrets directory is mounted."""
    secrets_dir = Path(os.environ.get("SECRETS_DIR", DEFAULT_SECRETS_DIR))
    # pydantic-settings warns about a missing directory; outside Kubernetes it usually is.
    return Settings(_secrets_dir=secrets_dir if secrets_dir.is_dir() else None)

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

from limits import parse
from pydantic import Field, SecretStr, field_validator
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

    # --- Secrets --------------------------------------------------------------------------------
    secret_key: SecretStr = SecretStr("dev-only-insecure-secret-key-change-me-0123456789")

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

    # --- Accounts -------------------------------------------------------------------------------
    # Access tokens cannot be revoked before they expire: keep them short. Refresh tokens are
    # stored (hashed) in PostgreSQL, rotate on every use and are revoked by logout.
    access_token_minutes: Annotated[int, Field(ge=1, le=60)] = 15
    refresh_token_days: Annotated[int, Field(ge=1, le=365)] = 30

    # --- Rate limiting --------------------------------------------------------------------------
    # Limits are `limits` strings: https://limits.readthedocs.io/en/stable/quickstart.html
    # Counters live in Redis, so every replica shares them. Turning them off is for local work.
    rate_limit_enabled: bool = True
    rate_limit_default: str = "120/minute"
    rate_limit_register: str = "10/hour"
    rate_limit_login_account: str = "5/minute"
    rate_limit_login_client: str = "20/minute"
    rate_limit_key_prefix: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9:_-]+$")] = (
        "ratelimit"
    )

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

    @field_validator(
        "rate_limit_default",
        "rate_limit_register",
        "rate_limit_login_account",
        "rate_limit_login_client",
    )
    @classmethod
    def _require_limit_string(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError:
            msg = f"{value!r} is not a rate limit: write it like 120/minute or 10/hour"
            raise ValueError(msg) from None
        return value


def _split_scheme(url: str) -> tuple[str, str]:
    scheme, separator, rest = url.partition("://")
    return (scheme, rest) if separator else ("", url)


def load_settings() -> Settings:
    """Read the settings, including secret files when the secrets directory is mounted."""
    secrets_dir = Path(os.environ.get("SECRETS_DIR", DEFAULT_SECRETS_DIR))
    # pydantic-settings warns about a missing directory; outside Kubernetes it usually is.
    return Settings(_secrets_dir=secrets_dir if secrets_dir.is_dir() else None)

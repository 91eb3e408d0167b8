"""Service configuration: one class, read from environment variables and secret files.

Precedence, highest first: environment variables, the `.env` file (local development only),
then one file per setting in the secrets directory (`SECRETS_DIR`, by default `/run/secrets`),
which is where a Kubernetes Secret is mounted. Names are case-insensitive: `DATABASE_URL`
in the environment and a file called `database_url` both set `database_url`.
Every setting is documented in `.env.example`.
"""

import base64
import ipaddress
import os
import re
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from limits import parse
from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRETS_DIR = Path("/run/secrets")
POSTGRES_SCHEMES = ("postgresql+asyncpg", "postgresql", "postgres")
REDIS_SCHEMES = ("redis", "rediss", "unix")

PositiveSeconds = Annotated[float, Field(gt=0)]
ONE_YEAR_SECONDS = 365 * 24 * 3600
# An origin is scheme://host[:port], nothing after it; `*` means any (refused in production).
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$|^\*$")
# A host name, `*.` and a domain (any subdomain), or `*` (any host; refused in production).
HOST_PATTERN = re.compile(r"^(\*\.)?[A-Za-z0-9.-]+$|^\*$")
# One FIELD_ENCRYPTION_KEYS entry: `id:key`, the key 32 bytes in URL-safe base64 (44 characters).
FIELD_ENCRYPTION_KEY = re.compile(r"^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9_-]{43}=$")


def _comma_separated(value: object) -> object:
    """`a, b` from the environment becomes ["a", "b"]; an empty string is an empty list."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


# Lists are written `A,B` in the environment, not as JSON.
CommaSeparated = Annotated[list[str], NoDecode, BeforeValidator(_comma_separated)]


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"

    @property
    def is_deployed(self) -> bool:
        """Staging and production face real traffic: the production guard applies to both."""
        return self in (Environment.STAGING, Environment.PRODUCTION)


class Settings(BaseSettings):
    # hide_input_in_errors: a refused value (a URL with its password) never reaches a log.
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", frozen=True, hide_input_in_errors=True
    )

    # --- Service --------------------------------------------------------------------------------
    environment: Environment = Environment.DEVELOPMENT
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    # --- PostgreSQL ---------------------------------------------------------------------------
    # Pool sizing: https://docs.sqlalchemy.org/en/20/core/pooling.html
    # Each replica holds up to db_pool_size + db_max_overflow connections: keep
    # replicas * (pool_size + max_overflow) below the server's max_connections.
    # A secret: it carries the password. Read it with `.get_secret_value()`.
    database_url: SecretStr
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
    # A secret too: redis://:password@host:6379/0, or rediss:// for TLS.
    redis_url: SecretStr
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

    # --- Security ---------------------------------------------------------------------------
    # docs/security.md explains each; production_checks.py refuses unsafe values in staging
    # and production. Outside them a missing SECRET_KEY is a random one per process.
    secret_key: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_hex(32)))
    debug: bool = False
    # Default: on in development and test, off in staging and production.
    docs_enabled: bool
    cors_origins: CommaSeparated = []
    cors_allow_credentials: bool = False
    allowed_hosts: CommaSeparated = ["*"]
    # Default: on in staging and production. HSTS always; the redirect unless behind a proxy.
    enforce_https: bool
    behind_tls_proxy: bool = False
    # X-Forwarded-For/-Proto are believed only from these addresses or networks.
    trusted_proxies: CommaSeparated = []
    hsts_max_age_seconds: Annotated[int, Field(ge=0)] = ONE_YEAR_SECONDS
    hsts_include_subdomains: bool = True
    max_body_bytes: Annotated[int, Field(ge=1)] = 1024 * 1024

    @model_validator(mode="before")
    @classmethod
    def _defaults_by_environment(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        try:
            deployed = Environment(data.get("environment", Environment.DEVELOPMENT)).is_deployed
        except ValueError:
            return data  # the environment field reports the bad value itself
        data.setdefault("docs_enabled", not deployed)
        data.setdefault("enforce_https", deployed)
        # `SECRET_KEY=` means "not set", not "empty key".
        for name in ("secret_key", "field_encryption_keys"):
            if data.get(name) == "":
                del data[name]
        return data

    @field_validator("cors_origins")
    @classmethod
    def _require_origins(cls, origins: list[str]) -> list[str]:
        return _all_matching(
            ORIGIN, origins, "CORS_ORIGINS entries must look like https://a.example"
        )

    @field_validator("allowed_hosts")
    @classmethod
    def _require_host_names(cls, hosts: list[str]) -> list[str]:
        hosts = [host.lower() for host in hosts]
        return _all_matching(HOST_PATTERN, hosts, "ALLOWED_HOSTS entries must be host names")

    @field_validator("trusted_proxies")
    @classmethod
    def _require_networks(cls, proxies: list[str]) -> list[str]:
        try:
            return [str(ipaddress.ip_network(proxy, strict=False)) for proxy in proxies]
        except ValueError as error:
            msg = f"TRUSTED_PROXIES entries must be IP addresses or networks (CIDR): {error}"
            raise ValueError(msg) from None

    @model_validator(mode="after")
    def _no_wildcard_origin_with_credentials(self) -> "Settings":
        # Browsers refuse `*` with credentials; echoing any origin instead would let every
        # site act with the user's cookies.
        if self.cors_allow_credentials and "*" in self.cors_origins:
            msg = "CORS_ORIGINS=* cannot be combined with CORS_ALLOW_CREDENTIALS=true"
            raise ValueError(msg)
        return self

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

    # --- Field encryption -----------------------------------------------------------------------
    # Keys for linked accounts' credentials (rendered with example_domain and field_encryption):
    # `id:key,id:key`, newest first; new values use the first, the rest only decrypt until
    # `rotate-keys` has re-encrypted every row. docs/security.md explains rotation. Outside
    # staging and production a missing value is a random key per process.
    field_encryption_keys: SecretStr = Field(default_factory=lambda: _random_encryption_key())

    @field_validator("field_encryption_keys")
    @classmethod
    def _require_key_entries(cls, secret: SecretStr) -> SecretStr:
        entries = [entry.strip() for entry in secret.get_secret_value().split(",")]
        if not all(FIELD_ENCRYPTION_KEY.fullmatch(entry) for entry in entries):
            msg = (
                "FIELD_ENCRYPTION_KEYS entries must be id:key, the key 32 random bytes in "
                "URL-safe base64 (`generate-secrets` prints one), comma-separated, newest first"
            )
            raise ValueError(msg)
        ids = [entry.partition(":")[0] for entry in entries]
        if len(set(ids)) != len(ids):
            msg = "FIELD_ENCRYPTION_KEYS has two keys with the same id"
            raise ValueError(msg)
        return SecretStr(",".join(entries))

    # --- Wallet (example domain) ---------------------------------------------------------------
    # Money routes have their own, stricter limits per user; they refuse with 503 while Redis is
    # unreachable rather than let a burst of payouts through unthrottled.
    rate_limit_purchases: str = "30/minute"
    rate_limit_withdrawals: str = "10/minute"
    # How long a completed Idempotency-Key is remembered (and replayed) before
    # `purge-idempotency-keys` deletes it. Clients must not retry a request older than this.
    idempotency_key_retention_hours: Annotated[int, Field(ge=1, le=24 * 90)] = 48
    # Rows deleted per transaction by the purge, so it never holds long locks.
    idempotency_purge_batch_size: Annotated[int, Field(ge=1, le=100_000)] = 1000
    # Every hour with background_jobs; otherwise run the command from cron.
    idempotency_purge_interval_seconds: PositiveSeconds = 3600.0

    @field_validator("database_url")
    @classmethod
    def _require_postgresql_with_asyncpg(cls, secret: SecretStr) -> SecretStr:
        scheme, rest = _split_scheme(secret.get_secret_value())
        if scheme not in POSTGRES_SCHEMES:
            msg = (
                f"DATABASE_URL must be a PostgreSQL URL such as "
                f"postgresql+asyncpg://user:password@host:5432/dbname, got scheme {scheme!r}; "
                "SQLite and other databases are not supported"
            )
            raise ValueError(msg)
        # Platform tooling hands out postgres:// or postgresql:// URLs; the service talks asyncpg.
        return SecretStr(f"postgresql+asyncpg://{rest}")

    @field_validator("redis_url")
    @classmethod
    def _require_redis_url(cls, secret: SecretStr) -> SecretStr:
        scheme, _ = _split_scheme(secret.get_secret_value())
        if scheme not in REDIS_SCHEMES:
            msg = (
                "REDIS_URL must be a Redis URL such as redis://host:6379/0 "
                f"(rediss:// for TLS), got scheme {scheme!r}"
            )
            raise ValueError(msg)
        return secret

    @field_validator(
        "rate_limit_default",
        "rate_limit_register",
        "rate_limit_login_account",
        "rate_limit_login_client",
        "rate_limit_purchases",
        "rate_limit_withdrawals",
    )
    @classmethod
    def _require_limit_string(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError:
            msg = f"{value!r} is not a rate limit: write it like 120/minute or 10/hour"
            raise ValueError(msg) from None
        return value


def _all_matching(pattern: re.Pattern[str], values: list[str], message: str) -> list[str]:
    if bad := [value for value in values if not pattern.fullmatch(value)]:
        msg = f"{message}, got {bad}"
        raise ValueError(msg)
    return values


def _random_encryption_key() -> SecretStr:
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
    return SecretStr(f"random:{key}")


def _split_scheme(url: str) -> tuple[str, str]:
    scheme, separator, rest = url.partition("://")
    return (scheme, rest) if separator else ("", url)


def load_settings() -> Settings:
    """Read the settings, including secret files when the secrets directory is mounted."""
    secrets_dir = Path(os.environ.get("SECRETS_DIR", DEFAULT_SECRETS_DIR))
    # pydantic-settings warns about a missing directory; outside Kubernetes it usually is.
    return Settings(_secrets_dir=secrets_dir if secrets_dir.is_dir() else None)

"""Redis client with bounded timeouts, an explicit retry policy and a pool that waits.

- `Redis.from_url()` alone retries nothing: after a Redis restart, stale pooled connections then
  fail requests for seconds. Two quick retries with jittered backoff replace them instead.
- Its default pool raises `MaxConnectionsError` the moment all `REDIS_MAX_CONNECTIONS` are in use,
  which under load turns a busy moment into failures: rate limits failing open (or, for login
  and money moves, closed with 503) and cache reads falling back to PostgreSQL. A blocking pool
  waits for a free connection instead, at most `REDIS_SOCKET_TIMEOUT_SECONDS`.
"""

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..settings import Settings

RETRY_ATTEMPTS = 2


def create_redis(settings: Settings) -> Redis:
    pool = BlockingConnectionPool.from_url(
        settings.redis_url.get_secret_value(),
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_socket_timeout_seconds,
        socket_timeout=settings.redis_socket_timeout_seconds,
        socket_connect_timeout=settings.redis_connect_timeout_seconds,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), RETRY_ATTEMPTS),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        health_check_interval=30,
    )
    # from_pool: closing the client closes its pool too.
    return Redis.from_pool(pool)

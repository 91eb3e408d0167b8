"""Redis client with bounded timeouts and an explicit retry policy.

`Redis.from_url()` alone retries nothing: after a Redis restart, stale pooled connections then
fail requests for seconds. Two quick retries with jittered backoff replace them instead.
"""

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..settings import Settings

RETRY_ATTEMPTS = 2


def create_redis(settings: Settings) -> Redis:
    return Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=settings.redis_socket_timeout_seconds,
        socket_connect_timeout=settings.redis_connect_timeout_seconds,
        max_connections=settings.redis_max_connections,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), RETRY_ATTEMPTS),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        health_check_interval=30,
    )

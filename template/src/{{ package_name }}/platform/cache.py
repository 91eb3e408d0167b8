"""Redis read cache with TTL and stampede protection (P1).

`get_or_load` answers from Redis when it can (one round trip: a script reads the cache's
generation and the entry of that generation), and `get_or_load_json` answers the stored JSON
as it is, for routes to send without decoding it. On a miss exactly one caller recomputes:
- within a process, concurrent misses on a key share one load (single flight);
- across processes, the loader holds a short Redis lock (`SET NX PX`), and the others poll
  the key until the value appears (or the lock expires, when they load it themselves).

Redis being down is not an error for a read: the value comes from the loader (PostgreSQL) and
the `unavailable` result is counted. `invalidate(cache)` bumps the cache's generation, so every
key of that cache is stale at once without scanning Redis.
"""

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from pydantic import TypeAdapter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from .resilience_metrics import ResilienceMetrics

logger = structlog.stdlib.get_logger(__name__)

T = TypeVar("T")

# How long a loader may hold the cross-process lock; others wait at most this long.
LOCK_SECONDS = 5.0
POLL_SECONDS = 0.02
# The cache's generation and its entry under that generation, in one round trip. It reads a
# key it computes (not declared in KEYS): fine on one Redis server, not on Redis Cluster.
_READ_ENTRY = """
local key = ARGV[1] .. (redis.call('get', KEYS[1]) or '0') .. ':' .. ARGV[2]
return {key, redis.call('get', key)}
"""
# Deletes the lock only if we still hold it (it may have expired and been taken by another).
_RELEASE_LOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class ReadCache:
    def __init__(self, redis: Redis, metrics: ResilienceMetrics, ttl_seconds: int) -> None:
        self.redis = redis
        self.metrics = metrics
        self.ttl_seconds = ttl_seconds
        self._loading: dict[str, asyncio.Future[bytes]] = {}
        self._read_entry = redis.register_script(_READ_ENTRY)

    async def get_or_load(
        self, cache: str, key: str, load: Callable[[], Awaitable[T]], codec: TypeAdapter[T]
    ) -> T:
        return codec.validate_json(await self.get_or_load_json(cache, key, load, codec))

    async def get_or_load_json(
        self, cache: str, key: str, load: Callable[[], Awaitable[T]], codec: TypeAdapter[T]
    ) -> bytes:
        """The value as JSON, as stored: a route can send it as it is, with no re-encoding."""
        try:
            full_key, cached = await self._read(cache, key)
        except RedisError as error:
            self._count(cache, "unavailable")
            logger.warning("cache_unavailable", cache=cache, error=type(error).__name__)
            return codec.dump_json(await load())
        if cached is not None:
            self._count(cache, "hit")
            return cached
        self._count(cache, "miss")
        return await self._load_once(full_key, load, codec)

    async def invalidate(self, cache: str) -> None:
        """Make every entry of `cache` stale. Redis down: logged; entries expire with their TTL."""
        try:
            await self.redis.incr(f"cache:{cache}:generation")
        except RedisError as error:
            logger.warning("cache_invalidation_failed", cache=cache, error=type(error).__name__)

    async def _read(self, cache: str, key: str) -> tuple[str, bytes | None]:
        """The entry's full key (under the current generation) and its value, if stored."""
        full_key, value = await self._read_entry(
            keys=[f"cache:{cache}:generation"], args=[f"cache:{cache}:", key]
        )
        return _text(full_key), None if value is None else _bytes(value)

    async def _load_once(
        self, full_key: str, load: Callable[[], Awaitable[T]], codec: TypeAdapter[T]
    ) -> bytes:
        if (pending := self._loading.get(full_key)) is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._loading[full_key] = future
        try:
            value = await self._fill(full_key, load, codec)
        except BaseException as error:
            future.set_exception(error)
            # Mark it retrieved: the other waiters (if any) get it, nobody else must.
            future.exception()
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._loading[full_key]

    async def _fill(
        self, full_key: str, load: Callable[[], Awaitable[T]], codec: TypeAdapter[T]
    ) -> bytes:
        lock_key, token = f"{full_key}:lock", secrets.token_hex(8)
        try:
            locked = await self.redis.set(lock_key, token, nx=True, px=int(LOCK_SECONDS * 1000))
        except RedisError:
            return codec.dump_json(await load())
        if not locked and (ready := await self._wait_for(full_key)) is not None:
            return ready
        try:
            value = codec.dump_json(await load())
            try:
                await self.redis.set(full_key, value, ex=self.ttl_seconds)
            except RedisError as error:
                logger.warning("cache_fill_failed", error=type(error).__name__)
        finally:
            if locked:
                await self._release(lock_key, token)
        return value

    async def _wait_for(self, full_key: str) -> bytes | None:
        """Another process is loading this key: poll until its value appears or its lock ends."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LOCK_SECONDS
        while loop.time() < deadline:
            await asyncio.sleep(POLL_SECONDS)
            try:
                # Lock first, value second: the loader stores the value before it releases the
                # lock, so a lock seen gone means the value (if the load succeeded) is readable.
                loading = await self.redis.exists(f"{full_key}:lock")
                value = await self.redis.get(full_key)
            except RedisError:
                return None
            if value is not None:
                return _bytes(value)
            if not loading:
                return None
        return None

    async def _release(self, lock_key: str, token: str) -> None:
        with contextlib.suppress(RedisError):  # if Redis is gone, the lock expires on its own
            await self.redis.eval(_RELEASE_LOCK, 1, lock_key, token)

    def _count(self, cache: str, result: str) -> None:
        self.metrics.cache_requests.labels(cache, result).inc()


def _bytes(value: bytes | str) -> bytes:
    # The service's client returns bytes; a client made with decode_responses returns str.
    return value if isinstance(value, bytes) else value.encode()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

"""Redis-backed rate limits shared by every replica, through the `limits` library.

- A default policy (`RATE_LIMIT_DEFAULT`) covers every route, applied by `RateLimitMiddleware`.
  Probes and `/metrics` are exempt: the kubelet and Prometheus call them from a few fixed
  addresses on a fixed schedule, and a throttled probe would take a healthy replica out of
  service. Keep them unreachable from the public network instead.
- Stricter policies are declared per route with `rate_limited(name, limit, fail_closed=...)`,
  or enforced by hand with `enforce(request, policy, identity)` when the key comes from the body
  (login is throttled per account and per client address).
- The caller is the user of a valid access token, else the client address (`scope["client"]`,
  which the proxy-headers middleware sets from `X-Forwarded-For` for trusted proxies only).
- A rejection is a 429 with `Retry-After` and the `RateLimit` / `RateLimit-Policy` headers of
  draft-ietf-httpapi-ratelimit-headers-08: `RateLimit-Policy: "login";q=5;w=60` and
  `RateLimit: "login";r=0;t=42`.
- Counting is the `limits` sliding window counter: two counters per caller and policy (this
  window's and the previous one's, weighted by overlap), so each check is O(1) in Redis time and
  memory whatever the limit. A moving window would keep one list entry per request counted.
- Redis unreachable: a policy fails open (the request goes on) unless it is `fail_closed`, then
  the request is a 503 with `Retry-After`. Both outcomes are counted.
"""

import math
import time
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import Depends, HTTPException, Request
from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from prometheus_client import CollectorRegistry, Counter
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..settings import Settings
from .app_state import app_state
from .asgi import HTTPMiddleware
from .errors import error_response
from .resources import Resources, get_resources
from .tokens import InvalidTokenError, bearer_token, request_token_subject

EXEMPT_PATH_PREFIXES = ("/health/", "/metrics")

logger = structlog.stdlib.get_logger(__name__)


@dataclass(frozen=True)
class Policy:
    name: str
    limit: RateLimitItem
    fail_closed: bool = False

    @classmethod
    def parse(cls, name: str, limit: str, *, fail_closed: bool = False) -> "Policy":
        return cls(name, parse(limit), fail_closed)


@dataclass(frozen=True)
class Decision:
    policy: Policy
    allowed: bool
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        name, limit = self.policy.name, self.policy.limit
        headers = {
            "RateLimit-Policy": f'"{name}";q={limit.amount};w={limit.get_expiry()}',
            "RateLimit": f'"{name}";r={self.remaining};t={self.reset_seconds}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


class RateLimiter:
    """The service's policies and the Redis counters behind them; one per app."""

    def __init__(self, settings: Settings, registry: CollectorRegistry) -> None:
        self.settings = settings
        self.enabled = settings.rate_limit_enabled
        self.default = Policy.parse("default", settings.rate_limit_default)
        # Brute force targets these: no Redis, no attempt.
        self.register = Policy.parse("register", settings.rate_limit_register, fail_closed=True)
        self.login_account = Policy.parse(
            "login_account", settings.rate_limit_login_account, fail_closed=True
        )
        self.login_client = Policy.parse(
            "login_client", settings.rate_limit_login_client, fail_closed=True
        )
        self.rejections = Counter(
            "rate_limit_rejections",
            "Requests refused with 429, by rate-limit policy.",
            ["policy"],
            registry=registry,
        )
        self.storage_errors = Counter(
            "rate_limit_storage_errors",
            "Rate-limit checks that could not reach Redis, by policy and outcome "
            "(fail_open: let through, fail_closed: refused with 503).",
            ["policy", "outcome"],
            registry=registry,
        )
        self._strategy: SlidingWindowCounterRateLimiter | None = None
        self._redis: Redis | None = None

    def _strategy_for(self, redis: Redis) -> SlidingWindowCounterRateLimiter:
        # Counters go through the service's own Redis pool (timeouts, retries, TLS, password).
        if self._strategy is None or self._redis is not redis:
            options: dict[str, Any] = {"connection_pool": redis.connection_pool}
            storage = RedisStorage(
                "async+redis://",
                implementation="redispy",
                key_prefix=self.settings.rate_limit_key_prefix,
                **options,
            )
            self._strategy, self._redis = SlidingWindowCounterRateLimiter(storage), redis
        return self._strategy

    async def hit(self, redis: Redis, policy: Policy, identity: str) -> Decision | None:
        """Count one request; None when it is not limited (limits off, or failing open)."""
        if not self.enabled:
            return None
        strategy = self._strategy_for(redis)
        try:
            allowed = await strategy.hit(policy.limit, policy.name, identity)
            stats = await strategy.get_window_stats(policy.limit, policy.name, identity)
        except RedisError:
            outcome = "fail_closed" if policy.fail_closed else "fail_open"
            self.storage_errors.labels(policy.name, outcome).inc()
            logger.warning("rate_limit_unavailable", policy=policy.name, outcome=outcome)
            if policy.fail_closed:
                raise  # the error handlers answer 503 with Retry-After
            return None
        if not allowed:
            self.rejections.labels(policy.name).inc()
        reset_seconds = max(1, math.ceil(stats.reset_time - time.time()))
        return Decision(policy, allowed, stats.remaining, reset_seconds)

    def identity(self, scope: Scope) -> str:
        token = bearer_token(Headers(scope=scope).get("authorization"))
        if token is not None:
            try:
                return f"user:{request_token_subject(scope, self.settings, token)}"
            except InvalidTokenError:
                pass  # an invalid token is not an identity: count it against the address
        client = scope.get("client")
        return f"address:{client[0] if client else 'unknown'}"


def get_rate_limiter(request: Request) -> RateLimiter:
    return app_state(request.scope, "rate_limiter", RateLimiter)


async def enforce(request: Request, policy: Policy, identity: str) -> None:
    """Count the request against `policy` for `identity`; HTTP 429 once it is over the limit."""
    limiter = get_rate_limiter(request)
    decision = await limiter.hit(get_resources(request).redis, policy, identity)
    if decision is not None and not decision.allowed:
        raise HTTPException(
            429,
            f"Too many requests: retry in {decision.reset_seconds} s.",
            headers=decision.headers(),
        )


def rate_limited(name: str, limit: str, *, fail_closed: bool = False) -> Any:
    """A route dependency with its own policy, per caller. Money routes declare theirs so:

    `@router.post("/withdrawals", dependencies=[rate_limited("withdrawals", "10/minute",
    fail_closed=True)])`
    """
    policy = Policy.parse(name, limit, fail_closed=fail_closed)

    async def check(request: Request) -> None:
        await enforce(request, policy, get_rate_limiter(request).identity(request.scope))

    return Depends(check)


class RateLimitMiddleware(HTTPMiddleware):
    """Applies the default policy to every request but the exempt paths."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        super().__init__(app)
        self.limiter = limiter

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.limiter.enabled or scope["path"].startswith(EXEMPT_PATH_PREFIXES):
            await self.app(scope, receive, send)
            return
        redis = app_state(scope, "resources", Resources).redis
        decision = await self.limiter.hit(redis, self.limiter.default, self.limiter.identity(scope))
        if decision is None:
            await self.app(scope, receive, send)
            return
        if not decision.allowed:
            request_id = scope.get("state", {}).get("request_id")
            response = error_response(
                request_id,
                429,
                "too_many_requests",
                f"Too many requests: retry in {decision.reset_seconds} s.",
                headers=decision.headers(),
            )
            await response(scope, receive, send)
            return
        headers = decision.headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in headers.items():  # a route's own policy takes precedence
                    response_headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)

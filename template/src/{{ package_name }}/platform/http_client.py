"""Outbound HTTP (R2): one client per external service, with timeouts, retries and a breaker.

- One `httpx.AsyncClient` per service, with explicit connect/read timeouts and a bounded pool,
  so one slow provider cannot take every socket or stall a caller past its timeout.
- tenacity retries only what can succeed on a second try: connect errors, timeouts, and the
  statuses 429, 502, 503 and 504. Waits grow exponentially with full jitter (so replicas do not
  retry in lockstep); a `Retry-After` from the server is honoured, capped at the maximum wait.
- A method that is not idempotent (POST, PATCH) is never retried unless the call carries an
  `Idempotency-Key` header: the first attempt may have taken effect.
- A circuit breaker per service stops calling a service that keeps failing; its state and
  transitions are exported (see resilience_metrics.py).
"""

import email.utils
import time
from collections.abc import Mapping
from typing import Any

import httpx
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from ..settings import Settings
from .circuit_breaker import BreakerState, CircuitBreaker
from .resilience_metrics import ResilienceMetrics

logger = structlog.stdlib.get_logger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
# First backoff window in seconds; attempt n waits a random time in [0, base * 2**n].
BACKOFF_BASE_SECONDS = 0.2


class UpstreamError(Exception):
    """The external service could not give a usable answer after the allowed attempts."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason


class _RetryableStatusError(UpstreamError):
    def __init__(self, service: str, response: httpx.Response) -> None:
        super().__init__(service, f"HTTP {response.status_code}")
        self.response = response


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP date; None when absent or bad."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


class _BackoffOrRetryAfter:
    """tenacity wait: the server's Retry-After when it sent one, else full-jitter backoff."""

    def __init__(self, max_wait_seconds: float) -> None:
        self.max_wait_seconds = max_wait_seconds
        self._jitter = wait_random_exponential(
            multiplier=BACKOFF_BASE_SECONDS, max=max_wait_seconds
        )

    def __call__(self, state: RetryCallState) -> float:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, _RetryableStatusError):
            asked = retry_after_seconds(error.response.headers)
            if asked is not None:
                return min(asked, self.max_wait_seconds)
        return float(self._jitter(state))


def may_retry(method: str, headers: Mapping[str, str] | None) -> bool:
    if method.upper() in IDEMPOTENT_METHODS:
        return True
    return headers is not None and any(
        name.lower() == IDEMPOTENCY_KEY_HEADER.lower() for name in headers
    )


class OutboundClient:
    """Calls to one external service. Create once at start-up, close at shutdown."""

    def __init__(self, service: str, base_url: str, settings: Settings, metrics: ResilienceMetrics):
        self.service = service
        self.metrics = metrics
        self.attempts = settings.http_retry_attempts
        self.max_wait_seconds = settings.http_retry_max_wait_seconds
        self.http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(
                connect=settings.http_connect_timeout_seconds,
                read=settings.http_read_timeout_seconds,
                write=settings.http_read_timeout_seconds,
                pool=settings.http_connect_timeout_seconds,
            ),
            limits=httpx.Limits(
                max_connections=settings.http_max_connections,
                max_keepalive_connections=settings.http_max_connections,
            ),
        )
        self.breaker = CircuitBreaker(
            service,
            failure_threshold=settings.circuit_breaker_failure_threshold,
            reset_seconds=settings.circuit_breaker_reset_seconds,
            on_transition=self._record_transition,
        )
        metrics.breaker_state.labels(service).set(BreakerState.CLOSED)

    async def request(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Send the request, retrying what is safe to retry; raise UpstreamError if it fails.

        Returns any response the retry policy does not retry (2xx, 4xx, and 5xx other than
        502/503/504); raises CircuitOpenError while the breaker is open.
        """
        attempts = self.attempts if may_retry(method, headers) else 1
        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=_BackoffOrRetryAfter(self.max_wait_seconds),
            retry=retry_if_exception_type((httpx.TransportError, _RetryableStatusError)),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._attempt(method, url, headers=headers, **kwargs)
        except _RetryableStatusError as error:
            raise UpstreamError(self.service, error.reason) from error
        except httpx.TransportError as error:
            raise UpstreamError(self.service, type(error).__name__) from error
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def _attempt(
        self, method: str, url: str, *, headers: Mapping[str, str] | None, **kwargs: Any
    ) -> httpx.Response:
        self.breaker.before_call()
        try:
            response = await self.http.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as error:
            self.breaker.record_failure()
            self.metrics.outbound_requests.labels(self.service, type(error).__name__).inc()
            logger.warning("outbound_failed", service=self.service, error=type(error).__name__)
            raise
        self.metrics.outbound_requests.labels(self.service, str(response.status_code)).inc()
        # A 429 means the service is up and pacing us: a retry, not a breaker failure.
        if response.status_code >= 500:
            self.breaker.record_failure()
        else:
            self.breaker.record_success()
        if response.status_code in RETRYABLE_STATUSES:
            raise _RetryableStatusError(self.service, response)
        return response

    def _record_transition(self, previous: BreakerState, current: BreakerState) -> None:
        self.metrics.breaker_state.labels(self.service).set(current)
        self.metrics.breaker_transitions.labels(
            self.service, previous.name.lower(), current.name.lower()
        ).inc()
        logger.warning(
            "circuit_breaker_transition",
            service=self.service,
            from_state=previous.name.lower(),
            to_state=current.name.lower(),
        )

    async def aclose(self) -> None:
        await self.http.aclose()


def outbound_services(settings: Settings) -> dict[str, str]:
    """The external services this configuration calls, by name, with their base URL."""
    if settings.market_provider == "http":
        return {"market_provider": settings.market_provider_url}
    return {}

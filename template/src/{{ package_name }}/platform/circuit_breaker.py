"""A small circuit breaker for calls to one external service.

purgatory and aiobreaker (PyPI) were considered; this one is ~60 lines, fully typed, and reports
its state and every transition to Prometheus labelled by service, which is what the alerts need.

- closed: calls pass; `failure_threshold` failures in a row open the breaker.
- open: calls fail at once with `CircuitOpenError` (no request leaves the process), until
  `reset_seconds` have passed.
- half-open: one trial call passes; its success closes the breaker, its failure reopens it.
"""

import time
from collections.abc import Callable
from enum import IntEnum


class BreakerState(IntEnum):
    # The values are what the `circuit_breaker_state` gauge exports.
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitOpenError(Exception):
    def __init__(self, service: str, retry_in_seconds: float) -> None:
        super().__init__(f"circuit breaker for {service} is open; retry in {retry_in_seconds:.1f}s")
        self.service = service
        self.retry_in_seconds = retry_in_seconds


Transition = Callable[[BreakerState, BreakerState], None]


class CircuitBreaker:
    def __init__(
        self,
        service: str,
        *,
        failure_threshold: int,
        reset_seconds: float,
        on_transition: Transition | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self._on_transition = on_transition
        self._clock = clock
        self.state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False

    def before_call(self) -> None:
        """Let a call through, or raise CircuitOpenError."""
        if self.state is BreakerState.OPEN:
            waited = self._clock() - self._opened_at
            if waited < self.reset_seconds:
                raise CircuitOpenError(self.service, self.reset_seconds - waited)
            self._move_to(BreakerState.HALF_OPEN)
        if self.state is BreakerState.HALF_OPEN:
            if self._trial_in_flight:
                raise CircuitOpenError(self.service, 0.0)
            self._trial_in_flight = True

    def record_success(self) -> None:
        self._failures = 0
        self._trial_in_flight = False
        if self.state is not BreakerState.CLOSED:
            self._move_to(BreakerState.CLOSED)

    def record_failure(self) -> None:
        self._trial_in_flight = False
        self._failures += 1
        if self.state is BreakerState.HALF_OPEN or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
            if self.state is not BreakerState.OPEN:
                self._move_to(BreakerState.OPEN)

    def _move_to(self, state: BreakerState) -> None:
        previous, self.state = self.state, state
        if self._on_transition is not None:
            self._on_transition(previous, state)

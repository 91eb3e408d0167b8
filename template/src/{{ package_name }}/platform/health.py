"""Kubernetes probes.

- `/health/live` answers from the process alone: a dependency outage must not make Kubernetes
  restart every replica at once.
- `/health/ready` checks PostgreSQL and Redis, each within `READINESS_TIMEOUT_SECONDS`, and
  answers 503 naming what failed, so traffic stops until the dependency is back.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from .metrics import get_app_metrics
from .resources import Resources, get_resources

router = APIRouter(prefix="/health", tags=["health"])

ReadinessCheck = Callable[[Resources], Awaitable[object]]


async def _check_database(resources: Resources) -> None:
    async with resources.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _check_redis(resources: Resources) -> None:
    await resources.redis.ping()


READINESS_CHECKS: dict[str, ReadinessCheck] = {
    "database": _check_database,
    "redis": _check_redis,
}


class CheckResult(BaseModel):
    status: Literal["ok", "failed"]
    duration_ms: float
    error: str | None = None


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    failed: list[str]
    checks: dict[str, CheckResult]


class Liveness(BaseModel):
    status: Literal["alive"] = "alive"


async def _run_check(
    check: ReadinessCheck, resources: Resources, limit_seconds: float
) -> CheckResult:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(limit_seconds):
            await check(resources)
    except TimeoutError:
        error: str | None = f"no answer within {limit_seconds:g}s"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the type is enough
        error = type(exc).__name__
    else:
        error = None
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    return CheckResult(status="failed" if error else "ok", duration_ms=duration_ms, error=error)


@router.get("/live")
async def live() -> Liveness:
    return Liveness()


@router.get("/ready", responses={200: {"model": Readiness}, 503: {"model": Readiness}})
async def ready(request: Request) -> JSONResponse:
    resources = get_resources(request)
    timeout = resources.settings.readiness_timeout_seconds
    names = list(READINESS_CHECKS)
    results = await asyncio.gather(
        *(_run_check(READINESS_CHECKS[name], resources, timeout) for name in names)
    )
    checks = dict(zip(names, results, strict=True))
    failed = [name for name, result in checks.items() if result.status == "failed"]
    readiness = get_app_metrics(request).readiness
    for name, result in checks.items():
        readiness.labels(name).set(1 if result.status == "ok" else 0)
    body = Readiness(status="not_ready" if failed else "ready", failed=failed, checks=checks)
    return JSONResponse(body.model_dump(mode="json"), status_code=503 if failed else 200)

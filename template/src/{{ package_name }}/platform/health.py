"""Kubernetes probes.

- `/health/live` answers from the process alone: a dependency outage must not make Kubernetes
  restart every replica at once.
- `/health/ready` checks PostgreSQL and Redis, each within `READINESS_TIMEOUT_SECONDS`, and
  answers 503 naming what failed, so traffic stops until the dependency is back. It is 503 as
  soon as SIGTERM arrives (`shutting_down`). External services whose circuit breaker is not
  closed are listed as `degraded` with a 200: the service still answers without them (cached
  market data), and taking every replica out of rotation would not bring the provider back.
- `/health/startup` is 200 once the database schema is at the revision this code ships
  (`alembic_version` equals `SCHEMA_HEAD_REVISION`) and the settings are valid (the process
  would not have started otherwise), so Kubernetes holds traffic and liveness checks until the
  migrations have run.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from .circuit_breaker import BreakerState
from .db import SCHEMA_HEAD_REVISION
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


ReadinessStatus = Literal["ready", "degraded", "not_ready", "shutting_down"]


class Readiness(BaseModel):
    status: ReadinessStatus
    failed: list[str]
    checks: dict[str, CheckResult]
    # External services the service works without, whose breaker is open or half-open.
    degraded: list[str] = []


class Startup(BaseModel):
    status: Literal["started", "starting"]
    expected_revision: str
    database_revision: str | None
    settings: Literal["valid"] = "valid"
    error: str | None = None


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
    if resources.shutdown.is_set():
        body = Readiness(status="shutting_down", failed=[], checks={})
        return JSONResponse(body.model_dump(mode="json"), status_code=503)
    timeout = resources.settings.readiness_timeout_seconds
    names = list(READINESS_CHECKS)
    results = await asyncio.gather(
        *(_run_check(READINESS_CHECKS[name], resources, timeout) for name in names)
    )
    checks = dict(zip(names, results, strict=True))
    failed = [name for name, result in checks.items() if result.status == "failed"]
    degraded = [
        name
        for name, client in resources.outbound.items()
        if client.breaker.state is not BreakerState.CLOSED
    ]
    readiness = get_app_metrics(request).readiness
    for name, result in checks.items():
        readiness.labels(name).set(1 if result.status == "ok" else 0)
    status: ReadinessStatus = "not_ready" if failed else "degraded" if degraded else "ready"
    body = Readiness(status=status, failed=failed, checks=checks, degraded=degraded)
    return JSONResponse(body.model_dump(mode="json"), status_code=503 if failed else 200)


async def _database_revision(resources: Resources) -> str | None:
    async with resources.engine.connect() as connection:
        exists = await connection.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
        if not exists:
            return None
        revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        return str(revision) if revision is not None else None


@router.get("/startup", responses={200: {"model": Startup}, 503: {"model": Startup}})
async def startup(request: Request) -> JSONResponse:
    resources = get_resources(request)
    error: str | None = None
    revision: str | None = None
    try:
        async with asyncio.timeout(resources.settings.readiness_timeout_seconds):
            revision = await _database_revision(resources)
    except TimeoutError:
        error = "database: no answer in time"
    except Exception as exc:  # noqa: BLE001 - any failure means "not started yet"
        error = f"database: {type(exc).__name__}"
    if error is None and revision != SCHEMA_HEAD_REVISION:
        error = "migrations not applied: run `alembic upgrade head`"
    body = Startup(
        status="starting" if error else "started",
        expected_revision=SCHEMA_HEAD_REVISION,
        database_revision=revision,
        error=error,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=503 if error else 200)

"""Prometheus metrics: HTTP traffic labelled by route template, served at `/metrics`.

Labels use the route template (`/api/v1/market/items/{item_id}`), never the raw path, so one
route is one time series however many ids it serves; unmatched paths share `<unmatched>`.
Each app has its own registry, so that tests can build many apps in one process; business
metrics register on `app_metrics.registry` too. The alert rules (ops/prometheus/alerts.yaml)
and the dashboard (ops/grafana/dashboards/) query these names: rename one there too.
"""

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from sqlalchemy.pool import QueuePool

from .app_state import app_state
from .resources import Resources

# Seconds; dense where a healthy API answers (5-500 ms), sparse beyond.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# The time series one request updates: its count, its latency and, for a 5xx, its error count.
RequestSeries = tuple[Counter, Histogram, Counter | None]


class AppMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "http_request_errors",
            "HTTP requests answered with a 5xx status, by method and route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time from request start to the end of the response, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._request_series: dict[tuple[str, str, int], RequestSeries] = {}
        self.in_flight = Gauge(
            "http_requests_in_flight",
            "HTTP requests being handled now.",
            registry=self.registry,
        )
        # Set by every /health/ready call, so an alert sees a replica Kubernetes took out of
        # service even while its /metrics still answers.
        self.readiness = Gauge(
            "readiness_check_up",
            "1 if the dependency answered the last readiness probe, 0 if it failed, by check.",
            ["check"],
            registry=self.registry,
        )
        # Read from the SQLAlchemy pool at scrape time (see `observe_pool`).
        self.pool_limit = Gauge(
            "db_pool_connections_limit",
            "Most PostgreSQL connections the pool may hold: pool size plus max overflow.",
            registry=self.registry,
        )
        self.pool_in_use = Gauge(
            "db_pool_connections_in_use",
            "PostgreSQL connections checked out of the pool now.",
            registry=self.registry,
        )
        self.pool_idle = Gauge(
            "db_pool_connections_idle",
            "Open PostgreSQL connections waiting in the pool now.",
            registry=self.registry,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request (the request context calls it for every request)."""
        key = (method, route, status)
        series = self._request_series.get(key)
        if series is None:
            # `labels()` hashes and locks on every call; the children it returns are stable, and
            # their number is bounded: route templates, not raw paths, times methods and statuses.
            series = self._request_series[key] = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
                self.errors.labels(method, route) if status >= 500 else None,
            )
        requests, latency, errors = series
        requests.inc()
        latency.observe(seconds)
        if errors is not None:
            errors.inc()

    def observe_pool(self, resources: Resources) -> None:
        pool, settings = resources.engine.pool, resources.settings
        self.pool_limit.set(settings.db_pool_size + settings.db_max_overflow)
        # The service's engine always has a QueuePool (AsyncAdaptedQueuePool); others keep no count.
        if isinstance(pool, QueuePool):
            self.pool_in_use.set(pool.checkedout())
            self.pool_idle.set(pool.checkedin())


def metrics_router(app_metrics: AppMetrics) -> APIRouter:
    router = APIRouter(tags=["observability"])

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        # Outside the lifespan (tools, offline tests) there is no pool to report on.
        resources = getattr(request.app.state, "resources", None)
        if isinstance(resources, Resources):
            app_metrics.observe_pool(resources)
        return Response(generate_latest(app_metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router


def get_app_metrics(request: Request) -> AppMetrics:
    return app_state(request.scope, "metrics", AppMetrics)

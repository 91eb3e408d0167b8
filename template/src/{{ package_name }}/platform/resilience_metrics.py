"""Metrics of the service's dependencies: queries, outbound calls, breakers, cache and jobs.

They register on the app's registry (`AppMetrics.registry`), so `/metrics` serves them with the
HTTP metrics, and alert rules can rely on these names:

- `db_query_duration_seconds{operation}` (histogram)
- `http_client_requests_total{service,outcome}`
- `circuit_breaker_state{service}` (0 closed, 1 half-open, 2 open) and
  `circuit_breaker_transitions_total{service,from_state,to_state}`
- `cache_requests_total{cache,result}`, result `hit`, `miss` or `unavailable` (Redis down: the
  value came from the loader); the hit ratio is `hit / (hit + miss)`
- `job_runs_total{job_name,outcome}`, outcome `success`, `failure`, `skipped` (another replica
  has this interval) or `lock_unavailable` (Redis down: not run);
  `job_duration_seconds{job_name}` (histogram); `job_last_success_timestamp_seconds{job_name}`.
  The label is `job_name`: Prometheus owns `job` (the scrape job) and would rename ours.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Seconds; queries should take milliseconds, jobs and outbound calls up to a minute.
QUERY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class ResilienceMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.query_duration = Histogram(
            "db_query_duration_seconds",
            "Time PostgreSQL statements took, by operation (SELECT, INSERT, ...).",
            ["operation"],
            buckets=QUERY_BUCKETS,
            registry=registry,
        )
        self.outbound_requests = Counter(
            "http_client_requests",
            "Outbound HTTP attempts by external service and outcome (status code or error).",
            ["service", "outcome"],
            registry=registry,
        )
        self.breaker_state = Gauge(
            "circuit_breaker_state",
            "Circuit breaker state per external service: 0 closed, 1 half-open, 2 open.",
            ["service"],
            registry=registry,
        )
        self.breaker_transitions = Counter(
            "circuit_breaker_transitions",
            "Circuit breaker state changes per external service.",
            ["service", "from_state", "to_state"],
            registry=registry,
        )
        self.cache_requests = Counter(
            "cache_requests",
            "Cache reads by cache name and result: hit, miss, or unavailable (Redis down).",
            ["cache", "result"],
            registry=registry,
        )
        self.job_runs = Counter(
            "job_runs",
            "Background job runs by job and outcome: success, failure, skipped, lock_unavailable.",
            ["job_name", "outcome"],
            registry=registry,
        )
        self.job_duration = Histogram(
            "job_duration_seconds",
            "Time each background job run took, failures included.",
            ["job_name"],
            buckets=JOB_BUCKETS,
            registry=registry,
        )
        self.job_last_success = Gauge(
            "job_last_success_timestamp_seconds",
            "Unix time of the last successful run of each background job.",
            ["job_name"],
            registry=registry,
        )

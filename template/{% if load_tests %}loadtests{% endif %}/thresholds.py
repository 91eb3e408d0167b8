"""Pass/fail thresholds of a load run (P3), and the cache hit ratio read from /metrics (P1).

Kept apart from the locustfile so that the rules are plain Python: importing Locust patches the
standard library (gevent), which the service's own tests must not inherit.
"""

from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

# The source plan's acceptance bar: a run fails at or beyond any of these.
MAX_P95_MS = 500.0
MAX_ERROR_RATIO = 0.01
MIN_RPS = 100.0
# P1: hot reads are served from Redis under load.
MIN_CACHE_HIT_RATIO = 0.90

CACHE_SAMPLE = "cache_requests_total"


@dataclass(frozen=True)
class Thresholds:
    max_p95_ms: float = MAX_P95_MS
    max_error_ratio: float = MAX_ERROR_RATIO
    min_rps: float = MIN_RPS
    min_cache_hit_ratio: float = MIN_CACHE_HIT_RATIO


@dataclass(frozen=True)
class RunSummary:
    requests: int
    failures: int
    p95_ms: float
    rps: float
    # None when /metrics could not be read (a deployed service rarely exposes it publicly).
    cache_hit_ratio: float | None = None

    @property
    def error_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


def percent(ratio: float) -> str:
    # Not the percent format spec: followed by the f-string brace, it reads as a Jinja tag end.
    return f"{100 * ratio:.2f}%"


def violations(summary: RunSummary, thresholds: Thresholds) -> list[str]:
    """Every threshold the run breaks, in words; empty when it passes."""
    broken = []
    if summary.requests == 0:
        broken.append("no request was sent")
    if summary.p95_ms >= thresholds.max_p95_ms:
        broken.append(f"p95 {summary.p95_ms:.0f} ms >= {thresholds.max_p95_ms:g} ms")
    if summary.error_ratio >= thresholds.max_error_ratio:
        ratio, limit = percent(summary.error_ratio), percent(thresholds.max_error_ratio)
        broken.append(f"error ratio {ratio} >= {limit}")
    if summary.rps < thresholds.min_rps:
        broken.append(f"throughput {summary.rps:.1f} RPS < {thresholds.min_rps:g} RPS")
    hits = summary.cache_hit_ratio
    if hits is not None and hits < thresholds.min_cache_hit_ratio:
        limit = percent(thresholds.min_cache_hit_ratio)
        broken.append(f"cache hit ratio {percent(hits)} < {limit}")
    return broken


@dataclass(frozen=True)
class CacheCounts:
    hits: float = 0.0
    misses: float = 0.0

    def __sub__(self, earlier: "CacheCounts") -> "CacheCounts":
        return CacheCounts(self.hits - earlier.hits, self.misses - earlier.misses)

    @property
    def hit_ratio(self) -> float | None:
        reads = self.hits + self.misses
        return self.hits / reads if reads else None


def cache_counts(metrics_text: str) -> CacheCounts:
    """Cache hits and misses of every cache, from a /metrics exposition."""
    hits = misses = 0.0
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name != CACHE_SAMPLE:  # not `_created`, not another metric
                continue
            result = sample.labels.get("result")
            if result == "hit":
                hits += sample.value
            elif result == "miss":
                misses += sample.value
    return CacheCounts(hits, misses)

"""The mixed scenario: the rendered project's own Locust file, headless, against the service.

The locustfile is the project's (`loadtests/locustfile.py`, run with the project's Python, as
`make loadtest` does); bench only points it at the service it already measures and reads what it
reports: Locust's CSV for throughput and percentiles, its summary line for the cache hit ratio
(read from the service's /metrics). Locust's CPU is measured over all its processes: a Locust
process near 100% of a core is the limit, not the service.
"""

import csv
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from wrk import cpu_seconds

# Each simulated user sends 2.5 requests a second (the locustfile's pacing): the issue's
# 1,000 RPS needs 400 of them.
DEFAULT_USERS = 400
# Users are started over this many seconds, and statistics restart once all are started: each
# user logs in when it starts (a password hash), and a burst of them would be measured as the mix.
DEFAULT_RAMP_SECONDS = 20
SUMMARY = re.compile(r"load test: (\d+) requests, .* cache hit ratio ([\d.]+%|unknown)")
# Locust's start-up, its stop timeout and the summary, beyond the run time.
MARGIN_SECONDS = 90
# The bar for the mix (2 cores, one uvicorn worker).
TARGET_RPS, TARGET_P95_MS, TARGET_ERROR_RATIO, TARGET_CACHE_HIT = 1000, 500, 0.01, 0.90


@dataclass(frozen=True)
class Mix:
    users: int
    processes: int
    seconds: int
    ramp_seconds: int
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    cache_hit: float | None  # from the service's /metrics, over the whole run
    locust_cpu: float  # percent of one core, all Locust processes together
    server_cpu: float

    @property
    def error_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def missed_targets(self) -> list[str]:
        missed = []
        if self.rps < TARGET_RPS:
            missed.append(f"{self.rps:,.0f} RPS < {TARGET_RPS:,}")
        if self.p95 >= TARGET_P95_MS:
            missed.append(f"p95 {self.p95:.0f} ms >= {TARGET_P95_MS}")
        if self.error_ratio >= TARGET_ERROR_RATIO:
            missed.append(f"errors {100 * self.error_ratio:.2f}% >= 1%")
        if self.cache_hit is None:
            missed.append("cache hit ratio unknown (Locust could not read /metrics)")
        elif self.cache_hit <= TARGET_CACHE_HIT:
            missed.append(f"cache hit {100 * self.cache_hit:.1f}% <= 90%")
        return missed

    def generator_limited(self) -> bool:
        # Locust's processes are single-threaded (gevent): one near a full core is saturated.
        return self.locust_cpu / self.processes >= 90


@dataclass(frozen=True)
class MixOptions:
    users: int
    processes: int
    seconds: int
    ramp_seconds: int
    seeded_users: int


def run_mix(
    project: Path, service: str, server_pid: int, options: "MixOptions", workdir: Path
) -> Mix:
    csv_prefix = workdir / "locust"
    run_seconds = options.ramp_seconds + options.seconds
    command = [
        str(project / ".venv" / "bin" / "python"), "-m", "locust",
        "-f", "loadtests/locustfile.py", "--headless", "--host", service,
        "--users", str(options.users), "--spawn-rate", str(options.users / options.ramp_seconds),
        "--run-time", f"{run_seconds}s", "--stop-timeout", "5", "--reset-stats",
        "--only-summary", "--loglevel", "WARNING", "--csv", str(csv_prefix),
        "--seeded-users", str(options.seeded_users),
        *(["--processes", str(options.processes)] if options.processes > 1 else []),
    ]  # fmt: skip
    server_before = cpu_seconds(server_pid)
    started = time.monotonic()
    # A file, not a pipe: a full pipe nobody reads would stall Locust.
    log = workdir / "locust.log"
    with log.open("w") as output_file:
        # The project's directory: the locustfile imports `loadtests.thresholds` from there.
        locust = subprocess.Popen(command, cwd=project, stdout=output_file,
                                  stderr=subprocess.STDOUT)  # fmt: skip
        locust_cpu = watch_cpu(locust, deadline=started + run_seconds + MARGIN_SECONDS)
    output = log.read_text()
    elapsed = time.monotonic() - started
    totals = aggregated_row(csv_prefix, output)
    return Mix(
        users=options.users, processes=options.processes, seconds=options.seconds,
        ramp_seconds=options.ramp_seconds,
        requests=int(totals["Request Count"]), failures=int(totals["Failure Count"]),
        rps=float(totals["Requests/s"]), p50=float(totals["50%"]), p95=float(totals["95%"]),
        p99=float(totals["99%"]), cache_hit=cache_hit_ratio(output),
        locust_cpu=100 * locust_cpu / elapsed,
        server_cpu=100 * (cpu_seconds(server_pid) - server_before) / elapsed,
    )  # fmt: skip


def watch_cpu(process: "subprocess.Popen[bytes]", deadline: float) -> float:
    """CPU seconds of `process` and its children until it exits (killed at `deadline`)."""
    seen: dict[int, float] = {}
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            sys.exit("Locust did not stop in time")
        for pid in process_tree(process.pid):
            try:
                seen[pid] = cpu_seconds(pid)
            except OSError:
                continue  # gone between the listing and the read
        time.sleep(0.5)
    return sum(seen.values())


def process_tree(root: int) -> list[int]:
    """`root` and its descendants: Locust's --processes forks workers."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree = [root]
    for pid in tree:
        tree += [child for child, parent in parents.items() if parent == pid]
    return tree


def aggregated_row(csv_prefix: Path, output: str) -> dict[str, str]:
    stats = Path(f"{csv_prefix}_stats.csv")
    if not stats.exists():
        sys.exit(f"Locust wrote no statistics:\n{output}")
    with stats.open(newline="") as lines:
        for row in csv.DictReader(lines):
            if row["Name"] == "Aggregated" and int(row["Request Count"]):
                return row
    sys.exit(f"Locust completed no request:\n{output}")


def cache_hit_ratio(output: str) -> float | None:
    # With --processes every process prints a summary; the master's counts every request.
    summaries = [(int(requests), ratio) for requests, ratio in SUMMARY.findall(output)]
    if not summaries:
        return None
    _, ratio = max(summaries)
    return None if ratio == "unknown" else float(ratio.rstrip("%")) / 100

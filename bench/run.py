"""`make bench`: the rendered default service against a bare FastAPI app, measured in one run.

Renders the default variant, starts its own PostgreSQL and Redis (throwaway, on free ports),
migrates them and seeds 10,000 users with the service's `seed` command, serves the service and
a 5-line FastAPI app with the same uvicorn settings (one worker each), and drives both with wrk
from Debian. Rounds interleave baseline and service so that a noisy neighbour slows both;
ratios, not absolute figures, are the result. The generator's CPU is measured too: a generator
near 100% of a core caps the numbers. Logins, an authenticated read and a login storm (the p95
of /health/live while logins run) are measured as well. Loads only target 127.0.0.1 and stop by
themselves.
"""

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
BUILD = ROOT / "build" / "bench"
REPORT = ROOT / "docs" / "benchmarks.md"
CHART = ROOT / "docs" / "benchmarks.png"
LINE = re.compile(
    r"BENCH requests=(\d+) seconds=([\d.]+) p50=([\d.]+) p95=([\d.]+) p99=([\d.]+) errors=(\d+)"
)
# X1: the service is measured against the data set of a 10,000-user service (`seed`).
SEED_USERS = 10_000
SEED_PASSWORD = "seeded-load-test-password"  # the rendered seed command's default
SEED_EMAIL = "seed-user-1@example.com"
# Every wrk connection comes from 127.0.0.1: the per-client limits would answer with 429s after a
# few requests. Raised, not turned off, so that each request still pays the limiter's Redis trip.
LOAD_TEST_LIMITS = {
    "RATE_LIMIT_DEFAULT": "100000000/minute",
    "RATE_LIMIT_REGISTER": "100000000/minute",
    "RATE_LIMIT_LOGIN_ACCOUNT": "100000000/minute",
    "RATE_LIMIT_LOGIN_CLIENT": "100000000/minute",
    "RATE_LIMIT_PURCHASES": "100000000/minute",
    "RATE_LIMIT_WITHDRAWALS": "100000000/minute",
    # One token serves the whole run.
    "ACCESS_TOKEN_MINUTES": "60",
    # A loaded server logs every slow statement: that output would cost more than it tells here.
    "DB_SLOW_QUERY_THRESHOLD_MS": "60000",
}


@dataclass(frozen=True)
class Request:
    """What wrk sends; written into its Lua script next to the reporter."""

    path: str
    method: str = "GET"
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()

    def lua(self) -> str:
        lines = [f'wrk.method = "{self.method}"']
        if self.body:
            lines += [
                f"wrk.body = [[{self.body}]]",
                'wrk.headers["Content-Type"] = "application/json"',
            ]
        lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in self.headers]
        return "\n".join(lines) + "\n" + (BENCH / "percentiles.lua").read_text()


@dataclass
class Sample:
    rps: float
    p50: float
    p95: float
    p99: float
    errors: int
    generator_cpu: float  # percent of one core
    server_cpu: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ensure_wrk() -> str:
    if found := shutil.which("wrk"):
        return found
    if os.geteuid() != 0:
        sys.exit("wrk is missing: sudo apt-get install wrk")
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


def render() -> Path:
    copier = [str(ROOT / ".venv" / "bin" / "copier"), "copy", "--trust", "--defaults"]
    subprocess.run([*copier, "--overwrite", "--quiet", "--vcs-ref", "HEAD", str(ROOT), str(BUILD)],
                   check=True)  # fmt: skip
    env = {**os.environ, "UV": str(ROOT / ".venv" / "bin" / "uv")}
    subprocess.run(["make", "--no-print-directory", "venv"], cwd=BUILD, env=env, check=True)
    return BUILD


@contextlib.contextmanager
def services(project: Path) -> Iterator[dict[str, str]]:
    sys.path.insert(0, str(project / "scripts"))
    from local_services import throwaway_services  # the rendered project's own tool

    with throwaway_services() as urls:
        yield {"DATABASE_URL": urls.database_url, "REDIS_URL": urls.redis_url}


def prepare_database(project: Path, env: dict[str, str], package: str) -> None:
    """Migrate, then seed 10,000 users and their catalogue with the service's own command."""
    subprocess.run([".venv/bin/alembic", "upgrade", "head"], cwd=project, env=env, check=True,
                   capture_output=True)  # fmt: skip
    subprocess.run([".venv/bin/python", "-m", package, "seed", "--users", str(SEED_USERS)],
                   cwd=project, env=env, check=True, capture_output=True)  # fmt: skip


def call(url: str, body: dict[str, str] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


@contextlib.contextmanager
def serve(project: Path, app: str, env: dict[str, str], app_dir: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    command = [str(project / ".venv" / "bin" / "uvicorn"), app, "--app-dir", str(app_dir),
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
               "--no-access-log", "--log-level", "warning"]  # fmt: skip
    server = subprocess.Popen(command, cwd=project, env={**env, "LOG_LEVEL": "WARNING"})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"{base}/health/live", timeout=1).status == 200:
                    break
            time.sleep(0.1)
        else:
            sys.exit(f"{app} did not start")
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def measure(
    wrk: str, base: str, request: Request, server_pid: int, seconds: int, connections: int
) -> Sample:
    script = BUILD / f"wrk-{abs(hash(request))}.lua"
    script.write_text(request.lua(), encoding="utf-8")
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script),
               base + request.path]  # fmt: skip
    server_before = cpu_seconds(server_pid)
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    generator = 0.0
    with contextlib.suppress(OSError):
        while process.poll() is None:
            generator = cpu_seconds(process.pid)
            time.sleep(0.2)
    output = process.stdout.read() if process.stdout else ""
    elapsed = time.monotonic() - started
    match = LINE.search(output)
    if not match:
        sys.exit(f"wrk printed no result for {request.path}:\n{output}")
    requests, duration, p50, p95, p99, errors = match.groups()
    return Sample(
        rps=int(requests) / float(duration), p50=float(p50), p95=float(p95), p99=float(p99),
        errors=int(errors), generator_cpu=100 * generator / elapsed,
        server_cpu=100 * (cpu_seconds(server_pid) - server_before) / elapsed,
    )  # fmt: skip


def median_sample(samples: list[Sample]) -> Sample:
    def middle(name: str) -> float:
        return statistics.median(getattr(sample, name) for sample in samples)

    return Sample(middle("rps"), middle("p50"), middle("p95"), middle("p99"),
                  sum(sample.errors for sample in samples), middle("generator_cpu"),
                  middle("server_cpu"))  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    wrk = ensure_wrk()
    project = render()
    (package,) = [path.name for path in (project / "src").iterdir() if path.is_dir()]
    with services(project) as urls:
        env = {**os.environ, **urls, **LOAD_TEST_LIMITS, "ENVIRONMENT": "development"}
        env.pop("VIRTUAL_ENV", None)
        prepare_database(project, env, package)
        rows = []
        app = f"{package}.main:app"
        with (
            serve(project, "bare_app:app", env, BENCH) as (bare, bare_pid),
            serve(project, app, env, project / "src") as (service, pid),
        ):
            endpoints = requests_to_measure(service)
            live = Request("/health/live")

            def run(base: str, request: Request, server: int) -> Sample:
                return measure(wrk, base, request, server, args.seconds, args.connections)

            for name, request in endpoints.items():
                baseline, measured = [], []
                for _ in range(args.rounds):
                    baseline.append(run(bare, live, bare_pid))
                    measured.append(run(service, request, pid))
                rows.append((name, median_sample(measured), median_sample(baseline)))
            storm = login_storm(wrk, service, pid, endpoints[LOGIN], args)
    table = format_table(rows, args) + storm.describe()
    print(table)
    write_report(table, rows)
    return 0


LOGIN = "POST /api/v1/auth/login (one password verification)"


def requests_to_measure(service: str) -> dict[str, Request]:
    """The endpoints, with what they need from the running service: an item id, a token."""
    (item,) = call(f"{service}/api/v1/market/items?limit=1")["items"]
    credentials = {"email": SEED_EMAIL, "password": SEED_PASSWORD}
    token = call(f"{service}/api/v1/auth/login", credentials)["access_token"]
    return {
        "/health/live (full middleware stack)": Request("/health/live"),
        "GET /api/v1/market/items (50 rows, Redis cache)": Request("/api/v1/market/items"),
        "GET /api/v1/market/items/{id} (one row, PostgreSQL)": Request(
            f"/api/v1/market/items/{item['id']}"
        ),
        "GET /api/v1/auth/me (authenticated, one row)": Request(
            "/api/v1/auth/me", headers=(("Authorization", f"Bearer {token}"),)
        ),
        LOGIN: Request("/api/v1/auth/login", "POST", json.dumps(credentials)),
    }


@dataclass(frozen=True)
class Storm:
    idle: Sample
    during: Sample

    def describe(self) -> str:
        if not self.during.rps:
            return (
                f"\nLogin storm: p95 of /health/live {self.idle.p95:.1f} ms idle; no response "
                "completed while logins ran (the event loop was starved).\n"
            )
        ratio = self.during.p95 / self.idle.p95 if self.idle.p95 else float("inf")
        return (
            f"\nLogin storm: p95 of /health/live {self.idle.p95:.1f} ms idle, "
            f"{self.during.p95:.1f} ms while logins run ({ratio:.2f}x; target below 2x), "
            f"{self.during.rps:,.0f} req/s during the storm.\n"
        )


def login_storm(
    wrk: str, service: str, pid: int, login: Request, args: argparse.Namespace
) -> Storm:
    """p95 of /health/live alone, then while another wrk sends logins: hashing must stay off
    the event loop, or every other request waits behind it."""
    live = Request("/health/live")
    # Few connections: a probe's view, not a second load.
    probe_connections = 4
    idle = measure(wrk, service, live, pid, args.seconds, probe_connections)
    script = BUILD / "wrk-login-storm.lua"
    script.write_text(login.lua(), encoding="utf-8")
    storm = subprocess.Popen(
        [wrk, "-t1", f"-c{args.connections}", f"-d{args.seconds + 2}s", "-s", str(script),
         service + login.path],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(1)  # the storm is under way before the probe starts
        during = measure(wrk, service, live, pid, args.seconds, probe_connections)
    finally:
        storm.wait(timeout=args.seconds + 30)
    return Storm(idle, during)


def write_report(table: str, rows: list[tuple[str, Sample, Sample]]) -> None:
    """docs/benchmarks.md and its chart, so the published figures are the measured ones."""
    import matplotlib  # the `bench` dependency group: only `make bench` needs it

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(8, 0.6 * len(rows) + 1.2))
    names = [name.split(" (")[0] for name, _, _ in rows]
    ratios = [sample.rps / baseline.rps for _, sample, baseline in rows]
    axes.barh(names[::-1], ratios[::-1], color="#4c72b0")
    axes.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    axes.set_xlabel("throughput as a fraction of a bare FastAPI app (1.0 = as fast)")
    figure.tight_layout()
    figure.savefig(CHART, dpi=110)
    machine = f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores"
    REPORT.write_text(
        REPORT_TEMPLATE.format(machine=machine, table=table, chart=CHART.name), encoding="utf-8"
    )
    print(f"\nwrote {REPORT.relative_to(ROOT)} and {CHART.relative_to(ROOT)}")


REPORT_TEMPLATE = """# Benchmarks

Written by `make bench` (bench/run.py); do not edit by hand. Machine: {machine}.

The rendered default service (every middleware on, PostgreSQL and Redis local, seeded with
10,000 users and 1,000 market items by its `seed` command) and a 5-line
FastAPI app are served the same way (uvicorn, one worker, `LOG_LEVEL=WARNING`, no access log)
and measured in interleaved rounds with wrk from Debian. The ratio to the bare app, measured in
the same run, is the result: absolute figures move with the machine and its neighbours, ratios
much less. The generator's CPU is listed: near 100% of a core, it and not the server is the limit.
Rate limits stay on, raised so that wrk's single address is not refused (429). The login storm
measures `/health/live` with 4 connections, alone and while another wrk sends logins.
{table}

![throughput ratio to bare FastAPI]({chart})

Reproduce: `make bench` (`BENCH_ARGS="--seconds 10 --rounds 5"` for steadier figures). It
installs wrk with apt-get when it is missing and you are root.
"""


def format_table(rows: list[tuple[str, Sample, Sample]], args: argparse.Namespace) -> str:
    header = (
        "| endpoint | req/s | p50 ms | p95 ms | p99 ms | errors | wrk CPU | server CPU "
        "| ratio to bare FastAPI |"
    )
    lines = [header, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, sample, baseline in rows:
        lines.append(
            f"| {name} | {sample.rps:,.0f} | {sample.p50:.1f} | {sample.p95:.1f} "
            f"| {sample.p99:.1f} "
            f"| {sample.errors} | {sample.generator_cpu:.0f}% | {sample.server_cpu:.0f}% "
            f"| {sample.rps / baseline.rps:.2f}x (bare {baseline.rps:,.0f}/s) |"
        )
    settings = (
        f"\nwrk -t1 -c{args.connections}, {args.rounds} interleaved rounds of {args.seconds} s, "
        f"one uvicorn worker each; medians\n"
    )
    return settings + "\n" + "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())

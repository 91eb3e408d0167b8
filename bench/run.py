"""`make bench`: the rendered default service against a bare FastAPI app, measured in one run.

Renders the default variant, starts its own PostgreSQL and Redis (throwaway, on free ports),
migrates and seeds them, serves the service and a 5-line FastAPI app with the same uvicorn
settings (one worker each), and drives both with wrk from Debian. Rounds interleave baseline and
service so that a noisy neighbour slows both; ratios, not absolute figures, are the result.
The generator's CPU is measured too: a generator near 100% of a core caps the numbers.
Loads only target 127.0.0.1 and stop by themselves.
"""

import argparse
import contextlib
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

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
BUILD = ROOT / "build" / "bench"
REPORT = ROOT / "docs" / "benchmarks.md"
CHART = ROOT / "docs" / "benchmarks.png"
LINE = re.compile(
    r"BENCH requests=(\d+) seconds=([\d.]+) p50=([\d.]+) p95=([\d.]+) p99=([\d.]+) errors=(\d+)"
)
SEED_ITEMS = 1_000


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


def prepare_database(project: Path, env: dict[str, str]) -> str:
    """Migrate and seed the catalogue; returns the id of one item for the single-row read."""
    subprocess.run([".venv/bin/alembic", "upgrade", "head"], cwd=project, env=env, check=True,
                   capture_output=True)  # fmt: skip
    seed = f"""
import asyncio, os, uuid, asyncpg
async def main():
    url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url)
    rows = [(uuid.uuid4(), f"item {{n}}", n % 500 + 0.99) for n in range({SEED_ITEMS})]
    columns = ["id", "title", "price"]
    await connection.copy_records_to_table("market_items", records=rows, columns=columns)
    print(rows[0][0])
    await connection.close()
asyncio.run(main())
"""
    done = subprocess.run([".venv/bin/python", "-c", seed], cwd=project, env=env, check=True,
                          capture_output=True, text=True)  # fmt: skip
    return done.stdout.strip()


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


def measure(wrk: str, url: str, server_pid: int, seconds: int, connections: int) -> Sample:
    command = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "-s",
        str(BENCH / "percentiles.lua"),
        url,
    ]
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
        sys.exit(f"wrk printed no result for {url}:\n{output}")
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
    with services(project) as urls:
        env = {**os.environ, **urls, "ENVIRONMENT": "development"}
        env.pop("VIRTUAL_ENV", None)
        item_id = prepare_database(project, env)
        endpoints = {
            "/health/live (full middleware stack)": "/health/live",
            "GET /api/v1/market/items (50 rows, PostgreSQL)": "/api/v1/market/items",
            "GET /api/v1/market/items/{id} (one row)": f"/api/v1/market/items/{item_id}",
        }
        rows = []
        (package,) = [path.name for path in (project / "src").iterdir() if path.is_dir()]
        app = f"{package}.main:app"
        with (
            serve(project, "bare_app:app", env, BENCH) as (bare, bare_pid),
            serve(project, app, env, project / "src") as (service, pid),
        ):
            for name, path in endpoints.items():
                baseline, measured = [], []
                for _ in range(args.rounds):
                    baseline.append(
                        measure(
                            wrk, f"{bare}/health/live", bare_pid, args.seconds, args.connections
                        )
                    )
                    measured.append(
                        measure(wrk, service + path, pid, args.seconds, args.connections)
                    )
                rows.append((name, median_sample(measured), median_sample(baseline)))
    table = format_table(rows, args)
    print(table)
    write_report(table, rows)
    return 0


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

The rendered default service (every middleware on, PostgreSQL and Redis local) and a 5-line
FastAPI app are served the same way (uvicorn, one worker, `LOG_LEVEL=WARNING`, no access log)
and measured in interleaved rounds with wrk from Debian. The ratio to the bare app, measured in
the same run, is the result: absolute figures move with the machine and its neighbours, ratios
much less. The generator's CPU is listed: near 100% of a core, it and not the server is the limit.
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

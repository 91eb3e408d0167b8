"""wrk from Debian: one endpoint at a time, its latency percentiles, and wrk's own CPU."""

import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
LINE = re.compile(
    r"BENCH requests=(\d+) seconds=([\d.]+) p50=([\d.]+) p95=([\d.]+) p99=([\d.]+) errors=(\d+)"
)


@dataclass(frozen=True)
class Request:
    """What wrk sends; written into its Lua script next to the reporter."""

    path: str
    method: str = "GET"
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    # Lua that builds each request itself (a `request()` function), when one fixed request
    # will not do: withdrawals need a new Idempotency-Key every time.
    script: str = ""

    def lua(self) -> str:
        # A new prefix per wrk run: keys built from it never repeat an earlier run's.
        lines = [f'run_id = "{uuid.uuid4().hex}"', f'wrk.method = "{self.method}"']
        if self.body:
            lines += [
                f"wrk.body = [[{self.body}]]",
                'wrk.headers["Content-Type"] = "application/json"',
            ]
        lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in self.headers]
        reporter = (BENCH / "percentiles.lua").read_text()
        return "\n".join([*lines, self.script, reporter])


@dataclass
class Sample:
    rps: float
    p50: float
    p95: float
    p99: float
    errors: int  # wrk's: connection errors, timeouts and every status >= 400
    generator_cpu: float  # percent of one core
    server_cpu: float
    requests: int = 0  # responses wrk counted, errors included


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


def measure(
    wrk: str,
    base: str,
    request: Request,
    server_pid: int,
    seconds: int,
    connections: int,
    workdir: Path,
) -> Sample:
    script = workdir / f"wrk-{abs(hash(request))}.lua"
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
        requests=int(requests),
    )  # fmt: skip


def median_sample(samples: list[Sample]) -> Sample:
    """Medians of the rounds; errors and requests are totals."""

    def middle(name: str) -> float:
        return statistics.median(getattr(sample, name) for sample in samples)

    return Sample(middle("rps"), middle("p50"), middle("p95"), middle("p99"),
                  sum(sample.errors for sample in samples), middle("generator_cpu"),
                  middle("server_cpu"), sum(sample.requests for sample in samples))  # fmt: skip

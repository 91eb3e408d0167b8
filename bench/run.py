"""`make bench`: the rendered default service against a bare FastAPI app, measured in one run.

Renders the default variant, starts its own PostgreSQL and Redis (throwaway, on free ports),
migrates them and seeds 10,000 users with the service's `seed` command, serves the service and
a 5-line FastAPI app with the same uvicorn settings (one worker each), and drives both with wrk
from Debian. Rounds interleave baseline and service so that a noisy neighbour slows both;
ratios, not absolute figures, are the result. The generator's CPU is measured too: a generator
near 100% of a core caps the numbers. Logins, an authenticated read, idempotent withdrawals and
a login storm (the p95 of /health/live while logins run) are measured as well, then the rendered
project's own Locust scenario runs against the same service (locust_mix.py). Loads only target
127.0.0.1 and stop by themselves.
"""

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from client import call
from locust_mix import DEFAULT_RAMP_SECONDS, DEFAULT_USERS, MixOptions, run_mix
from report import Row, describe_withdrawals, format_mix, format_table, write_report
from withdrawals import funded_withdrawals, paid_withdrawals
from wrk import BENCH, Request, Sample, cpu_seconds, ensure_wrk, measure, median_sample

ROOT = BENCH.parent
BUILD = ROOT / "build" / "bench"
# X1: the service is measured against the data set of a 10,000-user service (`seed`).
SEED_USERS = 10_000
SEED_PASSWORD = "seeded-load-test-password"  # the rendered seed command's default
SEED_EMAIL = "seed-user-{number}@example.com"
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
LOGIN = "POST /api/v1/auth/login (one password verification)"
WITHDRAWAL = "POST /api/v1/wallet/withdrawals (new Idempotency-Key each)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    mix = parser.add_argument_group("the mixed scenario (the rendered project's Locust file)")
    mix.add_argument("--mix-users", type=int, default=DEFAULT_USERS, help="2.5 requests/s each")
    mix.add_argument("--mix-processes", type=int, default=1, help="Locust's --processes")
    mix.add_argument("--mix-ramp", type=int, default=DEFAULT_RAMP_SECONDS,
                     help="seconds to start the users in, before the measured run")  # fmt: skip
    return parser.parse_args()


def main() -> int:
    args = parse_arguments()
    wrk = ensure_wrk()
    project = render()
    (package,) = [path.name for path in (project / "src").iterdir() if path.is_dir()]
    with services(project) as urls:
        env = {**os.environ, **urls, **LOAD_TEST_LIMITS, "ENVIRONMENT": "development"}
        env.pop("VIRTUAL_ENV", None)
        prepare_database(project, env, package)
        rows: list[Row] = []
        app = f"{package}.main:app"
        with (
            serve(project, "bare_app:app", env, BENCH) as (bare, bare_pid),
            serve(project, app, env, project / "src") as (service, pid),
        ):
            endpoints = requests_to_measure(service, args.connections)
            live = Request("/health/live")

            def run(base: str, request: Request, server: int) -> Sample:
                return measure(wrk, base, request, server, args.seconds, args.connections, BUILD)

            for name, request in endpoints.items():
                baseline, measured = [], []
                for _ in range(args.rounds):
                    baseline.append(run(bare, live, bare_pid))
                    measured.append(run(service, request, pid))
                rows.append((name, median_sample(measured), median_sample(baseline)))
            # Only the withdrawal row has paid anything out so far.
            paid = paid_withdrawals(service)
            storm = login_storm(wrk, service, pid, endpoints[LOGIN], args)
            mix_seconds = args.rounds * args.seconds  # as long as each row's rounds together
            mix_options = MixOptions(args.mix_users, args.mix_processes, mix_seconds,
                                     args.mix_ramp, SEED_USERS)  # fmt: skip
            wait_until_quiet(pid)  # the storm's last logins
            mix = run_mix(project, service, pid, mix_options, BUILD)
    withdrawals = next(sample for name, sample, _ in rows if name == WITHDRAWAL)
    text = (
        format_table(rows, args)
        + describe_withdrawals(withdrawals, paid, args.connections)
        + storm.describe()
        + format_mix(mix)
    )
    print(text)
    write_report(text, rows)
    return 0


def requests_to_measure(service: str, withdrawing_users: int) -> dict[str, Request]:
    """The endpoints, with what they need from the running service: an item id, tokens, money."""
    (item,) = call(f"{service}/api/v1/market/items?limit=1")["items"]
    credentials = {"email": SEED_EMAIL.format(number=1), "password": SEED_PASSWORD}
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
        WITHDRAWAL: funded_withdrawals(service, withdrawing_users, SEED_EMAIL, SEED_PASSWORD),
        LOGIN: Request("/api/v1/auth/login", "POST", json.dumps(credentials)),
    }


def wait_until_quiet(pid: int, limit_seconds: float = 60) -> None:
    """Wait for the server to finish what earlier loads left queued: wrk stops sending, but the
    logins it sent last still wait for a hashing thread, and an "idle" probe would measure them."""
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(0.5)
        if cpu_seconds(pid) - before < 0.05:  # under 10% of a core
            return


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
    wait_until_quiet(pid)
    idle = measure(wrk, service, live, pid, args.seconds, probe_connections, BUILD)
    script = BUILD / "wrk-login-storm.lua"
    script.write_text(login.lua(), encoding="utf-8")
    storm = subprocess.Popen(
        [wrk, "-t1", f"-c{args.connections}", f"-d{args.seconds + 2}s", "-s", str(script),
         service + login.path],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(1)  # the storm is under way before the probe starts
        during = measure(wrk, service, live, pid, args.seconds, probe_connections, BUILD)
    finally:
        storm.wait(timeout=args.seconds + 30)
    return Storm(idle, during)


if __name__ == "__main__":
    sys.exit(main())

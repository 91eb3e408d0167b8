"""Real uvicorn server processes for tests of what only a process shows: SIGTERM, replicas."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from local_services import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class ServerProcess:
    process: "subprocess.Popen[bytes]"
    base_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def server_env(database_url: str, redis_url: str, **settings: str) -> dict[str, str]:
    """The environment of a server process: these settings only, no .env, no secrets dir."""
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    env.update(
        ENVIRONMENT="test",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRETS_DIR=str(PROJECT_ROOT / "no-secrets-here"),
        LOG_LEVEL="INFO",
        PYTHONPATH=os.pathsep.join([str(PROJECT_ROOT), str(PROJECT_ROOT / "scripts")]),
    )
    env.update({name.upper(): value for name, value in settings.items()})
    return env


@contextlib.contextmanager
def uvicorn_process(app: str, env: dict[str, str], log: Path) -> Iterator[ServerProcess]:
    """`uvicorn <app> --factory` on a free port, ready (liveness answers) when yielded."""
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", app, "--factory",
                "--host", "127.0.0.1", "--port", str(port),
                "--timeout-graceful-shutdown", "10",
            ],
            cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = ServerProcess(process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_live(server)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_live(server: ServerProcess) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            msg = f"the server exited with {server.process.returncode}:\n{server.output()}"
            raise RuntimeError(msg)
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{server.base_url}/health/live", timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    msg = f"the server did not answer within {START_TIMEOUT_SECONDS:.0f}s:\n{server.output()}"
    raise RuntimeError(msg)

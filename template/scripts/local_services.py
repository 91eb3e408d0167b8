"""Local PostgreSQL and Redis servers for development and tests, without Docker.

    python scripts/local_services.py install   # apt-get install them when they are missing
    python scripts/local_services.py start     # start both on free ports, write URLs to .env
    python scripts/local_services.py stop [postgres|redis]
    python scripts/local_services.py status

`start` keeps its servers and data in `.services/` and reuses them (and their ports) on the
next start. The test suite uses `throwaway_services()` instead: servers in a temporary
folder, deleted when the session ends; outage tests use `throwaway_servers()`, whose servers
they stop and start again on the same port.

Standard library only, so that it runs before the virtual environment exists. PostgreSQL
refuses to run as root: as root, its commands run as the `postgres` user the Debian package
creates, and the data directory is owned by that user (and kept in its home directory when the
project lies in a directory that user cannot reach; `status` shows where).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import json
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

DEBIAN_PACKAGES = ("postgresql", "redis-server")
POSTGRES_USER = "postgres"
DEFAULT_DATABASE = "app"
WAIT_TIMEOUT_SECONDS = 30.0
# Durability is not wanted from a development or test server; speed is.
POSTGRES_FAST_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


class ServiceError(RuntimeError):
    """A server could not be installed, started or stopped; the message says what to do."""


@dataclass(frozen=True)
class ServiceUrls:
    database_url: str
    redis_url: str


# --- Finding the programs --------------------------------------------------------------------


def postgres_bin_dir() -> Path | None:
    """PG_BIN, else the newest Debian server (not on PATH there), else pg_ctl on PATH."""
    if configured := os.environ.get("PG_BIN"):
        return Path(configured)
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0,
    )
    if debian:
        return debian[-1].parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).resolve().parent if on_path else None


def redis_server_path() -> Path | None:
    found = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/sbin:/usr/bin")
    return Path(found) if found else None


def missing_programs() -> list[str]:
    missing = []
    if postgres_bin_dir() is None:
        missing.append("PostgreSQL server (pg_ctl, initdb)")
    if redis_server_path() is None:
        missing.append("redis-server")
    return missing


def install() -> None:
    """Install PostgreSQL and Redis with apt-get when they are missing (root on Debian/Ubuntu)."""
    missing = missing_programs()
    if not missing:
        return
    apt_get = shutil.which("apt-get")
    if apt_get is None or os.geteuid() != 0:
        msg = (
            f"missing: {', '.join(missing)}. Install them with your package manager, e.g. "
            f"`sudo apt-get install {' '.join(DEBIAN_PACKAGES)}` or "
            "`brew install postgresql redis`, or set PG_BIN to the directory holding pg_ctl."
        )
        raise ServiceError(msg)
    print(f"installing {', '.join(DEBIAN_PACKAGES)} with apt-get", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Wait for another apt process (unattended upgrades) instead of failing on its lock.
    lock_wait = ["-o", "DPkg::Lock::Timeout=300"]
    _run([apt_get, *lock_wait, "update", "-qq"], env=env)
    _run(
        [apt_get, *lock_wait, "install", "-y", "-qq", "--no-install-recommends", *DEBIAN_PACKAGES],
        env=env,
    )
    if still_missing := missing_programs():
        msg = f"apt-get finished but these are still missing: {', '.join(still_missing)}"
        raise ServiceError(msg)


def _require_programs() -> tuple[Path, Path]:
    postgres_bin, redis_server = postgres_bin_dir(), redis_server_path()
    if postgres_bin is None or redis_server is None:
        msg = (
            f"missing: {', '.join(missing_programs())}; "
            f"run `python {Path(__file__).name} install` first"
        )
        raise ServiceError(msg)
    return postgres_bin, redis_server


# --- Processes -------------------------------------------------------------------------------


def _run(command: Sequence[str | Path], env: dict[str, str] | None = None) -> str:
    completed = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, env=env, check=False
    )
    if completed.returncode != 0:
        msg = (
            f"`{' '.join(str(part) for part in command)}` failed with exit code "
            f"{completed.returncode}:\n{completed.stdout}{completed.stderr}"
        )
        raise ServiceError(msg)
    return completed.stdout


def _succeeds(command: Sequence[str | Path]) -> bool:
    completed = subprocess.run([str(part) for part in command], capture_output=True, check=False)
    return completed.returncode == 0


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _as_postgres_user(command: Sequence[str | Path]) -> list[str | Path]:
    # initdb, pg_ctl and postgres exit with "cannot be run as root".
    if not _running_as_root():
        return list(command)
    # util-linux's runuser lives in /usr/sbin, which a root shell's PATH may lack.
    runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
    if runuser is None:
        msg = "PostgreSQL cannot run as root and `runuser` (util-linux) was not found"
        raise ServiceError(msg)
    return [runuser, "-u", POSTGRES_USER, "--", *command]


def _give_to_postgres_user(path: Path) -> None:
    if _running_as_root():
        user = pwd.getpwnam(POSTGRES_USER)
        os.chown(path, user.pw_uid, user.pw_gid)


def _postgres_user_can_reach(path: Path) -> bool:
    """Whether the postgres user may pass through every directory from / down to `path`."""
    if not _running_as_root():
        return True  # the servers run as the user who owns the project
    postgres_uid = pwd.getpwnam(POSTGRES_USER).pw_uid
    for directory in (path, *path.parents):
        info = directory.stat()
        if info.st_uid != postgres_uid and not info.st_mode & stat.S_IXOTH:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        # As the servers do: a port whose last connections are in TIME_WAIT is free to them.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            # A server with a password answers NOAUTH: it is up all the same.
            return sock.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _wait_until(condition: Callable[[], bool], failure: Callable[[], str]) -> None:
    """Poll `condition` for up to WAIT_TIMEOUT_SECONDS; then fail with `failure()`."""
    deadline = time.monotonic() + WAIT_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise ServiceError(failure())


def _log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"


# --- PostgreSQL ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Postgres:
    """One cluster: data directory, socket directory and log all live under `home`."""

    bin_dir: Path
    home: Path
    port: int
    database: str = DEFAULT_DATABASE

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def log(self) -> Path:
        return self.home / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://{POSTGRES_USER}@127.0.0.1:{self.port}/{self.database}"

    def _pg_ctl(self, *arguments: str) -> list[str | Path]:
        return _as_postgres_user([self.bin_dir / "pg_ctl", "-D", self.data_dir, *arguments])

    def is_running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        return _succeeds(self._pg_ctl("status"))

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        _give_to_postgres_user(self.home)
        fresh = not (self.data_dir / "PG_VERSION").exists()
        if fresh:
            _run(
                _as_postgres_user(
                    [
                        self.bin_dir / "initdb",
                        "--pgdata",
                        self.data_dir,
                        "--username",
                        POSTGRES_USER,
                        "--auth",
                        "trust",
                        "--encoding",
                        "UTF8",
                        "--locale",
                        "C.UTF-8",
                        "--no-sync",
                        "--no-instructions",
                    ]
                )
            )
        if not self.is_running():
            options = (
                f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 "
                f"{POSTGRES_FAST_OPTIONS}"
            )
            _run(
                self._pg_ctl(
                    "start", "--wait", "--timeout", "30", "-l", str(self.log), "-o", options
                )
            )
        if fresh:
            self._create_database()

    def _create_database(self) -> None:
        _run(
            [
                self.bin_dir / "createdb",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--username",
                POSTGRES_USER,
                self.database,
            ]
        )

    def stop(self) -> None:
        if self.is_running():
            _run(self._pg_ctl("stop", "--wait", "--mode", "fast"))


# --- Redis -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Redis:
    """One redis-server, daemonized, with its pid file and log under `home`; no persistence."""

    server: Path
    home: Path
    port: int
    # With a password the server requires AUTH (requirepass), as production Redis does.
    password: str | None = None

    @property
    def pid_file(self) -> Path:
        return self.home / "redis.pid"

    @property
    def log(self) -> Path:
        return self.home / "redis.log"

    @property
    def url(self) -> str:
        credentials = f":{self.password}@" if self.password else ""
        return f"redis://{credentials}127.0.0.1:{self.port}/0"

    def _pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _process_exists(pid) else None

    def is_running(self) -> bool:
        return self._pid() is not None and _redis_answers(self.port)

    def start(self) -> None:
        if self.is_running():
            return
        self.home.mkdir(parents=True, exist_ok=True)
        _run(
            [
                self.server,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--dir",
                self.home,
                "--pidfile",
                self.pid_file,
                "--logfile",
                self.log,
                *(("--requirepass", self.password) if self.password else ()),
            ]
        )
        _wait_until(
            functools.partial(_redis_answers, self.port),
            lambda: (
                f"redis-server did not start within {WAIT_TIMEOUT_SECONDS:.0f} s; "
                f"its log ends with:\n{_log_tail(self.log)}"
            ),
        )

    def stop(self) -> None:
        pid = self._pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        _wait_until(
            lambda: not _process_exists(pid),
            lambda: f"redis-server (pid {pid}) did not stop within {WAIT_TIMEOUT_SECONDS:.0f} s",
        )


# --- Throwaway servers for a test session ----------------------------------------------------


@dataclass(frozen=True)
class ThrowawayServers:
    """Running servers a test may stop and start again (same port, same data): outage tests."""

    postgres: Postgres
    redis: Redis

    @property
    def urls(self) -> ServiceUrls:
        return ServiceUrls(database_url=self.postgres.url, redis_url=self.redis.url)


@contextlib.contextmanager
def throwaway_servers(database: str = DEFAULT_DATABASE) -> Iterator[ThrowawayServers]:
    """Fresh PostgreSQL and Redis on free ports in a temporary folder, deleted on exit."""
    postgres_bin, redis_server = _require_programs()
    # mkdtemp is 0700 and lives in /tmp, which the postgres user can traverse.
    home = Path(tempfile.mkdtemp(prefix="services-"))
    postgres = Postgres(postgres_bin, home / "postgres", free_port(), database)
    redis = Redis(redis_server, home / "redis", free_port())
    _give_to_postgres_user(home)
    try:
        postgres.start()
        redis.start()
        yield ThrowawayServers(postgres, redis)
    finally:
        # The servers are daemons re-parented to init: stop them explicitly, whatever happened.
        for server in (redis, postgres):
            with contextlib.suppress(ServiceError):
                server.stop()
        shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def throwaway_services(database: str = DEFAULT_DATABASE) -> Iterator[ServiceUrls]:
    """The URLs of throwaway_servers(): for a test session that never stops them."""
    with throwaway_servers(database) as servers:
        yield servers.urls


@contextlib.contextmanager
def throwaway_redis(password: str | None = None) -> Iterator[str]:
    """A fresh redis-server on a free port, optionally with a password; yields its URL."""
    redis_server = redis_server_path()
    if redis_server is None:
        msg = f"missing: redis-server; run `python {Path(__file__).name} install` first"
        raise ServiceError(msg)
    home = Path(tempfile.mkdtemp(prefix="redis-"))
    redis = Redis(redis_server, home, free_port(), password)
    try:
        redis.start()
        yield redis.url
    finally:
        with contextlib.suppress(ServiceError):
            redis.stop()
        shutil.rmtree(home, ignore_errors=True)


# --- Long-lived servers for development (`make services`) -----------------------------------


@dataclass(frozen=True)
class LocalServices:
    """The servers of one project checkout, remembered in `<directory>/state.json`."""

    directory: Path
    database: str = DEFAULT_DATABASE

    @property
    def state_file(self) -> Path:
        return self.directory / "state.json"

    def _ports(self) -> dict[str, int]:
        if not self.state_file.exists():
            return {}
        state: dict[str, int] = json.loads(self.state_file.read_text())
        return state

    def _servers(self, *, choose_ports: bool) -> tuple[Postgres, Redis]:
        postgres_bin, redis_server = _require_programs()
        ports = self._ports()
        postgres_home = self.postgres_home
        postgres = Postgres(postgres_bin, postgres_home, ports.get("postgres", 0), self.database)
        redis = Redis(redis_server, self.directory / "redis", ports.get("redis", 0))
        if choose_ports:
            # Keep last time's ports (and so .env) unless something else took them meanwhile.
            if not (postgres.port and (postgres.is_running() or _port_is_free(postgres.port))):
                postgres = Postgres(postgres_bin, postgres_home, free_port(), self.database)
            if not (redis.port and (redis.is_running() or _port_is_free(redis.port))):
                redis = Redis(redis_server, redis.home, free_port())
            self.state_file.write_text(
                json.dumps({"postgres": postgres.port, "redis": redis.port}) + "\n"
            )
        return postgres, redis

    @property
    def postgres_home(self) -> Path:
        """`<directory>/postgres`, unless the postgres user cannot reach it.

        As root in a private tree (a clone under /root, mode 0700) that user cannot pass, so
        the cluster lives in its home directory instead, one per project.
        """
        if _postgres_user_can_reach(self.directory):
            return self.directory / "postgres"
        project_key = hashlib.sha256(str(self.directory).encode()).hexdigest()[:16]
        return Path(pwd.getpwnam(POSTGRES_USER).pw_dir) / "local-services" / project_key

    def start(self, env_file: Path) -> ServiceUrls:
        self.directory.mkdir(parents=True, exist_ok=True)
        postgres, redis = self._servers(choose_ports=True)
        postgres.start()
        redis.start()
        urls = ServiceUrls(database_url=postgres.url, redis_url=redis.url)
        write_env_file(env_file, {"DATABASE_URL": urls.database_url, "REDIS_URL": urls.redis_url})
        return urls

    def stop(self, which: str | None) -> None:
        if not self.state_file.exists():
            return
        postgres, redis = self._servers(choose_ports=False)
        if which in (None, "redis"):
            redis.stop()
        if which in (None, "postgres"):
            postgres.stop()

    def status(self) -> list[str]:
        if not self.state_file.exists():
            return ["no local services yet: run `make services`"]
        postgres, redis = self._servers(choose_ports=False)
        return [
            f"postgres  {'running' if postgres.is_running() else 'stopped'}  {postgres.url}"
            f"  (data in {postgres.data_dir})",
            f"redis     {'running' if redis.is_running() else 'stopped'}  {redis.url}",
        ]


def write_env_file(env_file: Path, values: dict[str, str]) -> None:
    """Set `values` in a dotenv file, keeping every other line; start from .env.example."""
    example = env_file.with_name(".env.example")
    if env_file.exists():
        lines = env_file.read_text().splitlines()
    elif example.exists():
        lines = example.read_text().splitlines()
    else:
        lines = []
    pending = dict(values)
    for index, line in enumerate(lines):
        name = line.partition("=")[0].strip()
        if name in pending:
            lines[index] = f"{name}={pending.pop(name)}"
    lines.extend(f"{name}={value}" for name, value in pending.items())
    env_file.write_text("\n".join(lines) + "\n")


# --- Command line ----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dir", type=Path, default=Path(".services"), help="state and data")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="database to create")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("install", help="install PostgreSQL and Redis when they are missing")
    start = commands.add_parser("start", help="start both and write their URLs to the env file")
    start.add_argument("--env-file", type=Path, default=Path(".env"))
    stop = commands.add_parser("stop", help="stop both, or only the one named")
    stop.add_argument("service", nargs="?", choices=("postgres", "redis"))
    commands.add_parser("status", help="show whether each server is running, and its URL")
    arguments = parser.parse_args(argv)

    services = LocalServices(arguments.dir.resolve(), arguments.database)
    try:
        if arguments.command == "install":
            install()
        elif arguments.command == "start":
            urls = services.start(arguments.env_file)
            print(f"PostgreSQL  {urls.database_url}\nRedis       {urls.redis_url}")
            print(f"(written to {arguments.env_file})")
        elif arguments.command == "stop":
            services.stop(arguments.service)
        else:
            print("\n".join(services.status()))
    except ServiceError as error:
        print(f"local_services: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

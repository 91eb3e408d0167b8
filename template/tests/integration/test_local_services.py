"""`make services`: servers that keep their data and ports across stop and start."""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from local_services import LocalServices


@pytest.fixture
def project_dir() -> Iterator[Path]:
    # Readable by every user, so the cluster lives in .services/ (tmp_path is private: see below).
    directory = Path(tempfile.mkdtemp(prefix="local-services-"))
    directory.chmod(0o755)
    (directory / ".env.example").write_text("LOG_LEVEL=INFO\nDATABASE_URL=\nREDIS_URL=\n")
    yield directory
    LocalServices(directory / ".services").stop(None)
    shutil.rmtree(directory, ignore_errors=True)


def env_lines(project_dir: Path) -> list[str]:
    return (project_dir / ".env").read_text().splitlines()


def test_start_writes_urls_into_env_and_keeps_other_settings(project_dir: Path) -> None:
    services = LocalServices(project_dir / ".services")

    urls = services.start(project_dir / ".env")

    assert env_lines(project_dir) == [
        "LOG_LEVEL=INFO",
        f"DATABASE_URL={urls.database_url}",
        f"REDIS_URL={urls.redis_url}",
    ]
    assert [line.split()[:2] for line in services.status()] == [
        ["postgres", "running"],
        ["redis", "running"],
    ]


async def execute(database_url: str, statement: str) -> int:
    """Run one statement on a fresh connection; the number of rows it returned or touched."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            return (await connection.execute(text(statement))).rowcount
    finally:
        await engine.dispose()


async def test_restart_after_a_stop_keeps_ports_and_data(project_dir: Path) -> None:
    services = LocalServices(project_dir / ".services")
    first = services.start(project_dir / ".env")
    await execute(first.database_url, "CREATE TABLE kept AS SELECT 1 AS id")

    services.stop("postgres")
    postgres_status, redis_status = services.status()
    second = services.start(project_dir / ".env")

    assert postgres_status.split()[:2] == ["postgres", "stopped"]
    assert redis_status.split()[:2] == ["redis", "running"]
    assert second == first
    assert await execute(second.database_url, "DELETE FROM kept") == 1


@pytest.fixture
def private_project_dir(tmp_path: Path) -> Iterator[Path]:
    # pytest's folders are private (mode 0700), like a clone under /root.
    yield tmp_path
    services = LocalServices(tmp_path / ".services")
    services.stop(None)
    shutil.rmtree(services.postgres_home, ignore_errors=True)


async def test_a_private_project_directory_still_gets_a_working_database(
    private_project_dir: Path,
) -> None:
    services = LocalServices(private_project_dir / ".services")

    urls = services.start(private_project_dir / ".env")
    await execute(urls.database_url, "CREATE TABLE reached AS SELECT 1 AS id")

    assert await execute(urls.database_url, "DELETE FROM reached") == 1

"""Backups with pg_dump and verified restores with pg_restore (requirement D5).

`backup` writes a custom-format dump with a timestamped name and, beside it, a manifest of every
table's row count and checksum taken in the same snapshot window. `restore` loads a dump into a
NEW database (never over a live one: switch DATABASE_URL once the restore is verified) and
compares the restored tables with the manifest, so a restore drill proves the data, not only
that pg_restore exited 0. The libpq tools come from PG_BIN, the Debian server directory or PATH.
"""

import argparse
import asyncio
import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import URL, make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from ..settings import load_settings

# Row count and an md5 of every row in a stable order: equal fingerprints, equal data.
FINGERPRINT_SQL = (
    "SELECT count(*), coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') "
    "FROM {table} AS t"
)
Fingerprints = dict[str, dict[str, Any]]


class BackupError(RuntimeError):
    """A backup or restore step failed; the message says which and why."""


def libpq_tool(name: str) -> str:
    candidates = [Path(os.environ["PG_BIN"]) / name] if os.environ.get("PG_BIN") else []
    candidates += sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    found = next((str(path) for path in candidates if path.is_file()), shutil.which(name))
    if found is None:
        msg = f"{name} not found: install the PostgreSQL client (postgresql-client) or set PG_BIN"
        raise BackupError(msg)
    return found


def _run_libpq(tool: str, url: URL, *arguments: str) -> None:
    # The password travels in the environment, never on a command line others can read.
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    connection = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)]
    command = [libpq_tool(tool), *connection, "-U", url.username or "postgres", *arguments]
    # A fixed libpq program with arguments built here, never a shell: nothing to inject into.
    process = subprocess.run(  # noqa: S603
        command, env=env, capture_output=True, text=True, check=False
    )
    if process.returncode != 0:
        raise BackupError(f"{tool} failed: {process.stderr.strip()}")


async def fingerprints(url: URL) -> Fingerprints:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            names = await connection.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            )
            quote = engine.dialect.identifier_preparer.quote
            result: Fingerprints = {}
            for name in names.all():
                # Identifiers come from pg_catalog and are quoted by the dialect.
                sql = text(FINGERPRINT_SQL.format(table=quote(name)))
                rows, checksum = (await connection.execute(sql)).one()
                result[name] = {"rows": rows, "md5": checksum}
            return result
    finally:
        await engine.dispose()


async def _create_database(url: URL, name: str) -> None:
    maintenance = create_async_engine(
        url.set(database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    try:
        async with maintenance.connect() as connection:
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if exists:
                msg = f"database {name!r} exists: restore into a new database, never over one"
                raise BackupError(msg)
            quoted = maintenance.dialect.identifier_preparer.quote(name)
            await connection.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        await maintenance.dispose()


def backup(database_url: str, output_dir: Path) -> Path:
    """Dump the database into output_dir; returns the dump. The manifest sits beside it."""
    url = make_url(database_url)
    output_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    dump = output_dir / f"{url.database}-{stamp}.dump"
    tables = asyncio.run(fingerprints(url))
    _run_libpq(
        "pg_dump", url, "--format=custom", "--no-owner", f"--file={dump}", url.database or ""
    )
    manifest = {"database": url.database, "created_at": stamp, "tables": tables}
    dump.with_suffix(".json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return dump


def restore(database_url: str, dump: Path, target: str) -> URL:
    """Restore dump into the new database `target` and verify it against the manifest."""
    manifest = json.loads(dump.with_suffix(".json").read_text(encoding="utf-8"))
    url = make_url(database_url).set(database=target)
    asyncio.run(_create_database(url, target))
    _run_libpq("pg_restore", url, "--no-owner", "--no-privileges", "--exit-on-error",
               f"--dbname={target}", str(dump))  # fmt: skip
    restored = asyncio.run(fingerprints(url))
    if restored != manifest["tables"]:
        differing = sorted(
            name
            for name in manifest["tables"].keys() | restored.keys()
            if manifest["tables"].get(name) != restored.get(name)
        )
        raise BackupError(f"restored data differs from the backup in: {', '.join(differing)}")
    return url


def _run_backup(args: argparse.Namespace) -> int:
    try:
        dump = backup(load_settings().database_url.get_secret_value(), args.output_dir)
    except BackupError as error:
        print(f"backup failed: {error}")
        return 1
    print(f"backup written: {dump} (manifest {dump.with_suffix('.json')})")
    return 0


def _run_restore(args: argparse.Namespace) -> int:
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    source = make_url(load_settings().database_url.get_secret_value())
    target = args.target_database or f"{source.database}_restore_{stamp}"
    try:
        url = restore(source.render_as_string(hide_password=False), args.dump, target)
    except BackupError as error:
        print(f"restore failed: {error}")
        return 1
    print(f"restored and verified into {url.render_as_string(hide_password=True)}")
    print("Point DATABASE_URL at it (and restart the service) to switch over.")
    return 0


def add_command(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    backup_parser = commands.add_parser("backup", help="pg_dump the database, with a manifest")
    backup_parser.add_argument("--output-dir", type=Path, default=Path("backups"))
    backup_parser.set_defaults(run=_run_backup)
    restore_parser = commands.add_parser(
        "restore", help="restore a dump into a new database and verify it"
    )
    restore_parser.add_argument("dump", type=Path, help="a .dump file written by `backup`")
    restore_parser.add_argument("--target-database", help="default: <database>_restore_<time>")
    restore_parser.set_defaults(run=_run_restore)

"""`verify-ledger`: every wallet's balance must equal the sum of its ledger entries.

Exit status 0 when they all do, 1 (with each difference listed) otherwise: run it after an
incident, a restore, or a load test, and alert on a non-zero exit.
"""

import argparse
import asyncio

from prometheus_client import CollectorRegistry

from ..platform.logging import configure_logging
from ..platform.resilience_metrics import ResilienceMetrics
from ..platform.resources import Resources, open_resources
from ..settings import load_settings
from . import service


async def report_mismatches(resources: Resources) -> list[str]:
    # REPEATABLE READ: balances and ledger read from one snapshot while money keeps moving.
    async with resources.session_factory() as session:
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        mismatches = await service.ledger_mismatches(session)
    return [
        f"wallet of user {user_id}: balance {balance} but the ledger sums to {total}"
        for user_id, balance, total in mismatches
    ]


async def _verify() -> list[str]:
    settings = load_settings()
    configure_logging(settings.log_level)
    async with open_resources(settings, ResilienceMetrics(CollectorRegistry())) as resources:
        return await report_mismatches(resources)


def _run(_: argparse.Namespace) -> int:
    problems = asyncio.run(_verify())
    for problem in problems:
        print(problem)
    if problems:
        print(f"ledger check failed: {len(problems)} wallet(s) differ from their ledger")
        return 1
    print("ledger check passed: every balance equals the sum of its ledger")
    return 0


def add_command(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    command = commands.add_parser(
        "verify-ledger", help="check that every wallet balance equals the sum of its ledger"
    )
    command.set_defaults(run=_run)

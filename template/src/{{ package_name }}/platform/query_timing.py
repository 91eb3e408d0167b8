"""Query timing (D6): every statement is measured, slow ones are logged.

SQLAlchemy's cursor events wrap each statement. The log line carries the duration and the
statement's first line (its "name": `SELECT market_items.id, ...`), never the parameters,
which may hold personal data or secrets.
"""

import time
from typing import Any

import structlog
from prometheus_client import Histogram
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

logger = structlog.stdlib.get_logger(__name__)

STATEMENT_NAME_MAX_LENGTH = 200
# The histogram's `operation` label takes these values only, so its series stay few.
OPERATIONS = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "BEGIN", "COMMIT", "ROLLBACK"})
_STARTED = "query_started"


def statement_name(statement: str) -> str:
    first_line = statement.strip().splitlines()[0] if statement.strip() else ""
    return first_line[:STATEMENT_NAME_MAX_LENGTH]


def instrument_queries(engine: AsyncEngine, duration: Histogram, slow_threshold_ms: float) -> None:
    """Observe every statement on `engine` in `duration`; log those over the threshold."""

    def before(connection: Connection, *_: Any) -> None:
        # A stack, because a statement's events may nest (a statement run from another's event).
        connection.info.setdefault(_STARTED, []).append(time.perf_counter())

    def after(connection: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        started: list[float] = connection.info.get(_STARTED, [])
        if not started:
            return
        elapsed = time.perf_counter() - started.pop()
        name = statement_name(statement)
        verb = name.split(" ", 1)[0].upper()
        duration.labels(verb if verb in OPERATIONS else "OTHER").observe(elapsed)
        if elapsed * 1000 >= slow_threshold_ms:
            logger.warning(
                "slow_query",
                duration_ms=round(elapsed * 1000, 1),
                threshold_ms=slow_threshold_ms,
                statement=name,
            )

    def failed(context: Any) -> None:
        # The statement raised: drop its start time so the stack stays balanced.
        connection = context.connection
        started: list[float] = connection.info.get(_STARTED, []) if connection else []
        if started:
            started.pop()

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    event.listen(engine.sync_engine, "handle_error", failed)

"""Structured JSON logs on stdout, one object per line, for Loki, ELK or any collector.

Everything goes through structlog, including records from the standard library (uvicorn,
SQLAlchemy, Alembic), so every line has the same shape and carries the request id bound by
`request_context`.
"""

import logging
import sys
from collections.abc import Sequence

import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import Processor

SHARED_PROCESSORS: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
]


def configure_logging(level: str, processors: Sequence[Processor] = ()) -> None:
    """JSON lines on stdout; `processors` add fields to every line (e.g. trace ids)."""
    shared = [*SHARED_PROCESSORS, *processors]
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Without local variables: a frame's locals may hold a password or a token.
            structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn installs its own handlers; route its records through the root handler instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # The access log is written by RequestContextMiddleware, with the request id and route.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)

"""One JSON error shape for every failure: `{"error": {"code", "message", "request_id"}}`.

- Validation errors are 422 with the offending fields listed (never the submitted values, which
  may be secrets); malformed JSON is a validation error too.
- PostgreSQL or Redis being unreachable is 503 with `Retry-After`, not 500: the request was
  fine, the service is degraded, and the client may retry.
- Anything unexpected is a logged 500 with no stack trace or exception text in the body.
"""

import errno
import socket
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException
from starlette.types import Scope

logger = structlog.stdlib.get_logger(__name__)

DEPENDENCY_RETRY_AFTER_SECONDS = 1
# Socket errors that mean "the server is not reachable", as opposed to a bug in our code.
UNREACHABLE_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH, errno.ENETUNREACH}
# SQLSTATE classes of a server that cannot serve now: 08 connection exception, 53 insufficient
# resources (too many connections), 57 operator intervention (shutting down, starting up,
# statement timeout). asyncpg raises "the database system is shutting down" (57P01/57P03)
# as a plain DBAPIError while PostgreSQL stops or starts.
UNAVAILABLE_SQLSTATE_CLASSES = {"08", "53", "57"}


class FieldError(BaseModel):
    location: list[str | int]
    message: str
    type: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    request_id: str | None
    fields: list[FieldError] | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


# What every API route may answer besides success, for the OpenAPI document: a body that is not
# JSON, an invalid request, the rate limit (it covers every route), PostgreSQL or Redis down.
COMMON_ERRORS = {
    400: "The body cannot be parsed as JSON",
    422: "The request is not valid",
    429: "Too many requests",
    503: "PostgreSQL or Redis is unavailable",
}


def documented_errors(own: Mapping[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """A router's `responses=`: the common errors and its own (status -> description)."""
    descriptions = {**COMMON_ERRORS, **(own or {})}
    return {
        status: {"model": ErrorResponse, "description": description}
        for status, description in sorted(descriptions.items())
    }


def _request_id(scope: Scope) -> str | None:
    request_id = scope.get("state", {}).get("request_id")
    return request_id if isinstance(request_id, str) else None


def error_response(
    request_id: str | None,
    status_code: int,
    code: str,
    message: str,
    *,
    fields: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    detail = ErrorDetail(code=code, message=message, request_id=request_id, fields=fields)
    body = ErrorResponse(error=detail).model_dump(mode="json", exclude_none=True)
    return JSONResponse(body, status_code=status_code, headers=headers)


def error_response_for(
    scope: Scope, status_code: int, message: str, *, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The error response to the request in `scope`, for middleware that answers by itself."""
    code = _status_code_name(status_code)
    return error_response(_request_id(scope), status_code, code, message, headers=headers)


def _status_code_name(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "http_error"


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return error_response(
        _request_id(request.scope),
        exc.status_code,
        _status_code_name(exc.status_code),
        message,
        headers=exc.headers,
    )


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    fields = [
        FieldError(location=list(error["loc"]), message=error["msg"], type=error["type"])
        for error in exc.errors()
    ]
    return error_response(
        _request_id(request.scope),
        422,
        "validation_error",
        "The request is not valid: see `fields`.",
        fields=fields,
    )


def is_dependency_unavailable(exc: BaseException) -> bool:
    """True when exc means PostgreSQL or Redis cannot be reached, not that our code is wrong."""
    if isinstance(exc, RedisConnectionError | RedisTimeoutError | PoolTimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        # Constraint violations and bad SQL are bugs (or 409s), never "unavailable".
        sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
        return (
            exc.connection_invalidated
            or isinstance(exc, OperationalError | InterfaceError)
            or sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES
        )
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return True
    return isinstance(exc, OSError) and exc.errno in UNREACHABLE_ERRNOS


async def _dependency_error(request: Request, exc: Exception) -> JSONResponse:
    if not is_dependency_unavailable(exc):
        raise exc  # the request context (request_context.py) answers it with a logged 500
    logger.warning("dependency_unavailable", error_type=type(exc).__name__)
    return error_response(
        _request_id(request.scope),
        503,
        "dependency_unavailable",
        "A service this request needs is temporarily unavailable; retry shortly.",
        headers={"Retry-After": str(DEPENDENCY_RETRY_AFTER_SECONDS)},
    )


def install_error_handlers(app: FastAPI) -> None:
    # The decorator form accepts handlers typed with their own exception class.
    app.exception_handler(HTTPException)(_http_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    for exc_type in (
        DBAPIError,
        PoolTimeoutError,
        RedisConnectionError,
        RedisTimeoutError,
        OSError,
    ):
        app.exception_handler(exc_type)(_dependency_error)


def internal_error_response(request_id: str | None) -> JSONResponse:
    """The last-resort 500 for an exception no handler took; the request context sends it."""
    return error_response(
        request_id,
        500,
        "internal_error",
        "The server failed to handle this request; it has been logged.",
    )

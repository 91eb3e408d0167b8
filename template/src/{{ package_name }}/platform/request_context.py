"""Request id and access log.

Every request gets an id: the caller's `X-Request-ID` when it is a sane token (so a trace can
follow a request across services), a fresh one otherwise. The id is bound to every log line of
the request, stored in `request.state.request_id` for error bodies, and echoed in the response.
One access-log line per request records method, route template, status and duration.
"""

import logging
import os
import re
import time

import structlog
from starlette.datastructures import MutableHeaders
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from .asgi import HTTPMiddleware, RecordingSend

REQUEST_ID_HEADER = "X-Request-ID"
# Letters, digits and -_.: only, bounded: a header is attacker-controlled and ends up in logs.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

access_log = structlog.stdlib.get_logger("access")


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/items/{item_id}`), never the raw path.

    FastAPI includes routers lazily: `scope["route"]` is the route as its router declared it,
    without a prefix given to `include_router`. So routers declare their full prefix themselves
    (`APIRouter(prefix=...)`) and are included without one.
    """
    route = scope.get("route")
    if not isinstance(route, Route):
        return "<unmatched>"
    template: str = route.path
    return template


def _incoming_request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if VALID_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    # 128 random bits, hex: as unique as a uuid4 and a quarter of its cost on the hot path.
    return os.urandom(16).hex()


class RequestContextMiddleware(HTTPMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = _incoming_request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        response = RecordingSend(send_with_request_id)
        # Token form: a third of the cost of the `bound_contextvars` context manager.
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, response)
        finally:
            # Checking the level first skips building the event when access logs are off.
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    method=scope["method"],
                    route=route_template(scope),
                    status=response.status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
            structlog.contextvars.reset_contextvars(**tokens)

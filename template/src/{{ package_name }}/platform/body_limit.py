"""Request body size limit (MAX_BODY_BYTES): 413 in the common error shape.

Enforced while the body streams in, never after reading it all: a declared Content-Length over
the limit is refused before the app runs; a body without one (chunked) is counted as it arrives
and refused as soon as it passes the limit.
"""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .asgi import HTTPMiddleware, RecordingSend
from .errors import error_response_for


class RequestBodyTooLarge(HTTPException):
    """Raised from `receive`: FastAPI re-raises HTTPException from body parsing, so the
    request's own error handler answers 413 with the request id."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware(HTTPMiddleware):
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        super().__init__(app)
        self.max_body_bytes = max_body_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = _declared_length(scope)
        if declared is not None:
            if declared > self.max_body_bytes:
                await self._refuse(scope, receive, send)
                return
            # The server delivers no more than Content-Length: nothing to count.
            await self.app(scope, receive, send)
            return

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise RequestBodyTooLarge(self.max_body_bytes)
            return message

        response = RecordingSend(send)
        try:
            await self.app(scope, counting_receive, response)
        except RequestBodyTooLarge:
            if response.started:  # an app that streamed before reading: nothing else to do
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = RequestBodyTooLarge(self.max_body_bytes).detail
        await error_response_for(scope, 413, message)(scope, receive, send)

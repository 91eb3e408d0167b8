"""Building blocks of this package's middleware.

The middleware is pure ASGI rather than Starlette's BaseHTTPMiddleware: no extra task per
request, and streaming responses and context variables behave as they do without middleware.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HTTPMiddleware:
    """Runs `handle` for HTTP requests; lifespan and websocket traffic pass straight through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class RecordingSend:
    """Wraps `send` and records whether the response has started, and with which status.

    The status stays 500 when the app raises before responding: that is what the client gets.
    """

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False
        self.status = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            self.status = message["status"]
        await self._send(message)

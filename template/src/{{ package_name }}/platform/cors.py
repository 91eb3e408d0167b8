"""CORS from CORS_ORIGINS: Starlette's middleware, with refusals in the common error shape.

An origin not on the list gets no Access-Control-Allow-Origin header, on preflights too; `*` is
refused in production by the guard and never combined with credentials (settings refuse it).
"""

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Receive, Scope, Send

from .errors import error_response_for

CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CORS_REQUEST_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID")
CORS_EXPOSED_HEADERS = ("X-Request-ID", "Retry-After", "RateLimit", "RateLimit-Policy")


class StrictCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, with a refused preflight answered in the common error shape."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            headers = Headers(scope=scope)
            if "origin" in headers and "access-control-request-method" in headers:
                preflight = self.preflight_response(request_headers=headers)
                if preflight.status_code != 200:
                    cors_headers = {
                        name: value
                        for name, value in preflight.headers.items()
                        if name.startswith("access-control-") or name == "vary"
                    }
                    message = f"CORS preflight refused: {bytes(preflight.body).decode()}."
                    preflight = error_response_for(scope, 400, message, headers=cors_headers)
                await preflight(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def cors_middleware(origins: list[str], allow_credentials: bool) -> Middleware:
    return Middleware(
        StrictCORSMiddleware,
        allow_origins=origins,
        allow_credentials=allow_credentials,
        allow_methods=CORS_METHODS,
        allow_headers=CORS_REQUEST_HEADERS,
        expose_headers=CORS_EXPOSED_HEADERS,
    )

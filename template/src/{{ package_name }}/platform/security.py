"""HTTP hardening, as pure ASGI middleware, in two groups the app places around its request
context: `security_headers(settings)` outermost, `request_guards(settings)` inside.

- Forwarded headers (X-Forwarded-For/-Proto) rewrite the client address and scheme only when
  the connection comes from TRUSTED_PROXIES (uvicorn's ProxyHeadersMiddleware, run here rather
  than in uvicorn so that the setting lives with the others; serve with --no-proxy-headers).
- Security headers on every response: nosniff, frame deny, no referrer, a strict CSP (the
  interactive docs pages excepted: they load scripts), and HSTS when HTTPS is enforced.
- Host check against ALLOWED_HOSTS: 400 in the error shape.
- HTTP -> HTTPS redirect when HTTPS is enforced and no TLS proxy sits in front.
- CORS from CORS_ORIGINS; then the request body size limit.
Probes and /metrics are exempt from the host check and the redirect: the kubelet and
Prometheus reach pods by IP over plain HTTP.
"""

from starlette.datastructures import URL
from starlette.middleware import Middleware
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from ..settings import Settings
from .asgi import HTTPMiddleware
from .body_limit import BodyLimitMiddleware
from .cors import cors_middleware
from .errors import error_response_for

INTERNAL_PATH_PREFIXES = ("/health/", "/metrics")
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
STRICT_CSP = "default-src 'none'; frame-ancestors 'none'"

RawHeaders = list[tuple[bytes, bytes]]


def _raw(headers: dict[str, str]) -> RawHeaders:
    return [(name.lower().encode(), value.encode()) for name, value in headers.items()]


class SecurityHeadersMiddleware(HTTPMiddleware):
    def __init__(self, app: ASGIApp, hsts: str | None) -> None:
        super().__init__(app)
        headers = {
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
        }
        if hsts:
            headers["Strict-Transport-Security"] = hsts
        # Built once: each response only appends a ready list.
        self.docs_headers = _raw(headers)
        self.headers = _raw({**headers, "Content-Security-Policy": STRICT_CSP})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        extra = self.docs_headers if scope["path"] in DOCS_PATHS else self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _host_name(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"host":
            host: str = value.decode("latin-1").lower()
            if host.startswith("["):  # [::1]:8000
                return host[1 : host.find("]")]
            return host.partition(":")[0]
    return ""


class TrustedHostMiddleware(HTTPMiddleware):
    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        super().__init__(app)
        self.exact = frozenset(host for host in allowed_hosts if not host.startswith("*."))
        # "*.example.com" allows any subdomain of example.com, not example.com itself.
        self.suffixes = tuple(host[1:] for host in allowed_hosts if host.startswith("*."))

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        host = _host_name(scope)
        if (
            host in self.exact
            or (self.suffixes and host.endswith(self.suffixes))
            or scope["path"].startswith(INTERNAL_PATH_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        message = "The Host header names a host this service does not serve."
        await error_response_for(scope, 400, message)(scope, receive, send)


class HTTPSRedirectMiddleware(HTTPMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["scheme"] != "http" or scope["path"].startswith(INTERNAL_PATH_PREFIXES):
            await self.app(scope, receive, send)
            return
        url = URL(scope=scope)
        netloc = url.hostname if url.port in (None, 80) else url.netloc
        # 308 keeps the method and body: a POST stays a POST.
        redirect = RedirectResponse(url.replace(scheme="https", netloc=netloc), status_code=308)
        await redirect(scope, receive, send)


def hsts_value(settings: Settings) -> str | None:
    if not settings.enforce_https:
        return None
    value = f"max-age={settings.hsts_max_age_seconds}"
    return f"{value}; includeSubDomains" if settings.hsts_include_subdomains else value


def security_headers(settings: Settings) -> Middleware:
    """Outermost in the app: every response gets the headers, the last-resort 500 included."""
    return Middleware(SecurityHeadersMiddleware, hsts=hsts_value(settings))


def request_guards(settings: Settings) -> list[Middleware]:
    """The layers that check or rewrite a request, outermost first; those a setting turns off
    are left out. Inside the request context: their refusals carry a request id and are counted."""
    stack: list[Middleware] = []
    if settings.trusted_proxies:
        stack.append(Middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies))
    if "*" not in settings.allowed_hosts:
        stack.append(Middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts))
    if settings.enforce_https and not settings.behind_tls_proxy:
        stack.append(Middleware(HTTPSRedirectMiddleware))
    if settings.cors_origins:
        stack.append(cors_middleware(settings.cors_origins, settings.cors_allow_credentials))
    stack.append(Middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes))
    return stack


def http_hardening(settings: Settings) -> list[Middleware]:
    """Every hardening layer, outermost first (the app puts its request context in between)."""
    return [security_headers(settings), *request_guards(settings)]

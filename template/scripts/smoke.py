"""Smoke test of a deployed service: `make smoke URL=https://api.example.com`.

Runs a list of named checks against the URL and prints PASS or FAIL for each, then a summary;
exits 1 when any check fails, so a deploy pipeline can stop or roll back. Standard library
only: it runs from any machine with Python, without the project's environment. Each check is a
small function; add one per capability the service gains.
"""

import argparse
import json
import secrets
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message

TIMEOUT_SECONDS = 10


class CheckFailedError(Exception):
    """A check's expectation did not hold; the message says what was seen."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: Message
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


class Client:
    def __init__(self, base_url: str) -> None:
        # Only web URLs: urllib would also open file:// and other schemes.
        if not base_url.startswith(("http://", "https://")):
            msg = f"the URL must start with http:// or https://, got {base_url!r}"
            raise SystemExit(msg)
        self.base_url = base_url.rstrip("/")

    def get(
        self, path: str, headers: dict[str, str] | None = None, method: str = "GET"
    ) -> Response:
        # The scheme is checked in __init__ (http or https only).
        url = self.base_url + path
        request = urllib.request.Request(url, headers=headers or {}, method=method)  # noqa: S310  # nosec B310
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310  # nosec B310
                return Response(answer.status, answer.headers, answer.read())
        except urllib.error.HTTPError as error:  # 4xx and 5xx still carry a response
            return Response(error.code, error.headers, error.read())


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailedError(message)


def liveness(client: Client) -> str:
    response = client.get("/health/live")
    expect(response.status == 200, f"/health/live answered {response.status}")
    return "the process answers"


def readiness(client: Client) -> str:
    response = client.get("/health/ready")
    expect(response.status == 200, f"/health/ready answered {response.status}: {response.body!r}")
    return "PostgreSQL and Redis answer"


def metrics(client: Client) -> str:
    response = client.get("/metrics")
    expect(response.status == 200, f"/metrics answered {response.status}")
    expect(b"# TYPE " in response.body, "/metrics is not in the Prometheus text format")
    return "Prometheus metrics are exposed"


def request_id_echo(client: Client) -> str:
    request_id = f"smoke-{secrets.token_hex(8)}"
    response = client.get("/health/live", headers={"X-Request-ID": request_id})
    echoed = response.headers.get("X-Request-ID")
    expect(echoed == request_id, f"X-Request-ID came back as {echoed!r}")
    return "X-Request-ID is echoed"


def error_shape(client: Client) -> str:
    response = client.get(f"/smoke-test-{secrets.token_hex(4)}")
    expect(response.status == 404, f"an unknown path answered {response.status}")
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    expect(
        isinstance(error, dict) and {"code", "message", "request_id"} <= error.keys(),
        f"the 404 body is not in the error shape: {body!r}",
    )
    return "errors come in the JSON error shape"


def security_headers(client: Client) -> str:
    headers = client.get("/health/live").headers
    expect(headers.get("X-Content-Type-Options") == "nosniff", "X-Content-Type-Options is missing")
    expect(headers.get("X-Frame-Options") == "DENY", "X-Frame-Options is not DENY")
    expect(headers.get("Server") is None, f"a Server header is sent: {headers.get('Server')!r}")
    return "security headers present, no Server banner"


def cors_refuses_unknown_origins(client: Client) -> str:
    preflight = {"Origin": "https://smoke-test.invalid", "Access-Control-Request-Method": "GET"}
    response = client.get("/api/v1/market/items", headers=preflight, method="OPTIONS")
    allowed = response.headers.get("Access-Control-Allow-Origin")
    expect(allowed is None, f"an unknown origin was allowed: {allowed!r}")
    return "an unknown origin gets no Access-Control-Allow-Origin"


def docs_off(client: Client) -> str:
    for path in ("/docs", "/redoc", "/openapi.json"):
        status = client.get(path).status
        expect(status == 404, f"{path} answered {status}: interactive docs must be off")
    return "interactive docs and the OpenAPI document are not served"


CHECKS: dict[str, Callable[[Client], str]] = {
    "liveness": liveness,
    "readiness": readiness,
    "metrics": metrics,
    "request id": request_id_echo,
    "error shape": error_shape,
    "security headers": security_headers,
    "cors": cors_refuses_unknown_origins,
    "docs off": docs_off,
}


def run(base_url: str, docs_allowed: bool = False) -> int:
    client, failed = Client(base_url), 0
    # A development server serves its docs on purpose: skip that one check there.
    checks = {
        name: check for name, check in CHECKS.items() if not (docs_allowed and check is docs_off)
    }
    for name, check in checks.items():
        try:
            print(f"PASS {name}: {check(client)}")
        except (CheckFailedError, OSError, ValueError) as problem:  # OSError: unreachable, timeout
            failed += 1
            print(f"FAIL {name}: {problem}")
    print(f"smoke: {len(checks) - failed} passed, {failed} failed against {base_url}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Smoke-test a deployed service.")
    parser.add_argument("url", help="base URL of the service, e.g. https://api.example.com")
    parser.add_argument(
        "--docs-allowed", action="store_true", help="a development server: its docs may be on"
    )
    args = parser.parse_args(argv)
    return run(args.url, docs_allowed=args.docs_allowed)


if __name__ == "__main__":
    sys.exit(main())

"""JSON calls to the running service: what the measured requests need (ids, tokens, money)."""

import json
import urllib.request
from typing import Any


def call(
    url: str, body: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def metrics_text(service: str) -> str:
    with urllib.request.urlopen(f"{service}/metrics", timeout=30) as response:
        return str(response.read().decode())

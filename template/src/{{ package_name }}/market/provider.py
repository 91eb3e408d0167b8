"""Where market data comes from: `MARKET_PROVIDER=static` (built in) or `http`.

The static provider needs no network, so the demo and the tests work offline. The HTTP provider
reads `GET <MARKET_PROVIDER_URL>`, which answers a JSON list of `{"title", "price"}` objects,
through the outbound client (timeouts, retries, circuit breaker).
"""

from typing import Protocol

from pydantic import BaseModel, TypeAdapter

from ..platform.http_client import OutboundClient, UpstreamError
from .schemas import Price, Title

PROVIDER_SERVICE = "market_provider"


class Quote(BaseModel):
    title: Title
    price: Price


QUOTES = TypeAdapter(list[Quote])


class MarketProvider(Protocol):
    async def fetch_quotes(self) -> list[Quote]: ...


class StaticProvider:
    """A fixed catalogue: what the service shows until a real provider is configured."""

    CATALOGUE = (
        ("Reference basket", "100.00"),
        ("Spot gold, 1 g", "61.25"),
        ("Brent crude, 1 bbl", "74.10"),
    )

    async def fetch_quotes(self) -> list[Quote]:
        # Prices as decimal strings: the same wire format an HTTP provider's feed uses.
        return QUOTES.validate_python(
            [{"title": title, "price": price} for title, price in self.CATALOGUE]
        )


class HttpProvider:
    def __init__(self, client: OutboundClient) -> None:
        self.client = client

    async def fetch_quotes(self) -> list[Quote]:
        response = await self.client.get("")
        if response.status_code != 200:
            raise UpstreamError(self.client.service, f"HTTP {response.status_code}")
        return QUOTES.validate_json(response.content)


def build_provider(outbound: dict[str, OutboundClient]) -> MarketProvider:
    """The HTTP provider when one is configured (see http_client.outbound_services)."""
    client = outbound.get(PROVIDER_SERVICE)
    return HttpProvider(client) if client is not None else StaticProvider()

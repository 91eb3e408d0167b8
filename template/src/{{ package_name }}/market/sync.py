"""Market data sync (P2): copy the provider's quotes into PostgreSQL, then drop the cache.

No user request waits on the provider: requests read PostgreSQL through the cache, and this
sync refreshes PostgreSQL. It runs as the `market_sync` background job every
MARKET_SYNC_INTERVAL_SECONDS (with background_jobs), and as `python -m <package> market-sync`
(from cron or a Kubernetes CronJob when the service runs without background jobs).
Quotes are matched to items by title: an item with that title gets the new price, a new title
becomes a new item.
"""

import argparse

import structlog
from sqlalchemy import select

from ..platform.resources import Resources, run_once
from .models import Item
from .provider import Quote, build_provider

logger = structlog.stdlib.get_logger(__name__)

ITEMS_CACHE = "market_items"


async def apply_quotes(resources: Resources, quotes: list[Quote]) -> int:
    """Upsert the quotes by title in one transaction; the number of items changed or added."""
    changed = 0
    async with resources.session_factory() as session, session.begin():
        titles = [quote.title for quote in quotes]
        existing = {
            item.title: item
            for item in await session.scalars(select(Item).where(Item.title.in_(titles)))
        }
        for quote in quotes:
            item = existing.get(quote.title)
            if item is None:
                session.add(Item(title=quote.title, price=quote.price))
                changed += 1
            elif item.price != quote.price:
                item.price = quote.price
                changed += 1
    await resources.cache.invalidate(ITEMS_CACHE)
    return changed


async def sync_market_data(resources: Resources) -> int:
    quotes = await build_provider(resources.outbound).fetch_quotes()
    changed = await apply_quotes(resources, quotes)
    logger.info("market_synced", quotes=len(quotes), changed=changed)
    return changed


def _run(_: argparse.Namespace) -> int:
    return run_once(sync_market_data)


def add_command(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    command = commands.add_parser(
        "market-sync", help="fetch market data from the provider into PostgreSQL once"
    )
    command.set_defaults(run=_run)

"""Business rules for market items. Takes a session, returns domain objects, knows no HTTP."""

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Item
from .schemas import ItemCreate


async def create_item(session: AsyncSession, data: ItemCreate) -> Item:
    item = Item(title=data.title, price=data.price)
    session.add(item)
    # Flush, not commit: the request's unit of work commits once the route has returned.
    await session.flush()
    await session.refresh(item)
    return item


async def list_items(session: AsyncSession, *, limit: int, offset: int) -> Sequence[Item]:
    # Ids are UUIDv7, so ordering by id is ordering by creation, on the primary key index.
    query = select(Item).order_by(Item.id.desc()).limit(limit).offset(offset)
    return (await session.scalars(query)).all()


async def get_item(session: AsyncSession, item_id: UUID) -> Item | None:
    return await session.get(Item, item_id)

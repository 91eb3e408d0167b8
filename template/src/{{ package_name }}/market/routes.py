from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import TypeAdapter

from ..about import API_PREFIX
from ..platform.dependencies import CacheDep, ReadSessionDep, SessionDep, SessionFactoryDep
from ..platform.errors import ErrorResponse, documented_errors
from . import service
from .schemas import ItemCreate, ItemPage, ItemRead
from .sync import ITEMS_CACHE

ITEM_PAGE = TypeAdapter(ItemPage)

router = APIRouter(
    prefix=f"{API_PREFIX}/market/items",
    tags=["market"],
    responses=documented_errors(),
)

MAX_PAGE_SIZE = 100
# Deep offsets make PostgreSQL scan and discard rows; past this, use filters instead.
MAX_OFFSET = 10_000


@router.get("", response_model=ItemPage)
async def list_items(
    sessions: SessionFactoryDep,
    cache: CacheDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    # Served from Redis; PostgreSQL is read on a miss, or when Redis is down: a hit opens no
    # session at all.
    async def load() -> ItemPage:
        async with sessions() as session:
            items = await service.list_items(session, limit=limit, offset=offset)
            return ItemPage(
                items=[ItemRead.model_validate(item) for item in items], limit=limit, offset=offset
            )

    # The page is validated when it is stored; a hit is sent as stored, never decoded and
    # re-encoded (the hot path of the service: most reads are hits).
    page = await cache.get_or_load_json(ITEMS_CACHE, f"{limit}:{offset}", load, ITEM_PAGE)
    return Response(page, media_type="application/json")


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_item(data: ItemCreate, session: SessionDep, cache: CacheDep) -> ItemRead:
    item = ItemRead.model_validate(await service.create_item(session, data))
    # Commit before invalidating: a reader refilling the cache in between must see the item.
    await session.commit()
    await cache.invalidate(ITEMS_CACHE)
    return item


@router.get("/{item_id}", responses={404: {"model": ErrorResponse}})
async def get_item(item_id: UUID, session: ReadSessionDep) -> ItemRead:
    item = await service.get_item(session, item_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No market item with id {item_id}.")
    return ItemRead.model_validate(item)

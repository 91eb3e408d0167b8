"""Wallet routes: thin. Money moves go through `run_once` (Idempotency-Key) and the service."""

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from ..about import API_PREFIX
from ..accounts.dependencies import CurrentUser
from ..accounts.models import User
from ..platform.dependencies import ReadSessionDep, SessionDep
from ..platform.errors import ErrorResponse, documented_errors
from ..platform.idempotency import (
    HEADER,
    OPENAPI_PARAMETER,
    Effect,
    IdempotentRequest,
    parse_key,
    request_fingerprint,
    run_once,
)
from ..platform.rate_limit import Policy, enforce, get_rate_limiter
from ..platform.resources import get_resources
from . import service
from .metrics import get_wallet_metrics
from .schemas import BalanceRead, EntryPage, EntryRead, MoneyMove, PurchaseRequest

router = APIRouter(
    prefix=f"{API_PREFIX}/wallet",
    tags=["wallet"],
    responses=documented_errors(
        {400: "Malformed JSON or Idempotency-Key", 401: "Not authenticated"}
    ),
)
MONEY_MOVE_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "Insufficient funds, or key in flight"},
}
MAX_PAGE_SIZE = 100
MAX_OFFSET = 10_000

# Documented through OPENAPI_PARAMETER (required); read as optional to answer 400 when missing.
IdempotencyKeyHeader = Annotated[str | None, Header(alias=HEADER, include_in_schema=False)]
MONEY_MOVE_OPENAPI: dict[str, Any] = {"parameters": [OPENAPI_PARAMETER]}


@cache
def _policy(name: str, limit: str) -> Policy:
    return Policy.parse(name, limit, fail_closed=True)


def _money_rate_limit(name: str) -> Any:
    """Per user, with the limit from the RATE_LIMIT_<NAME> setting; 503 while Redis is down."""

    async def check(request: Request) -> None:
        limit: str = getattr(get_resources(request).settings, f"rate_limit_{name}")
        identity = get_rate_limiter(request).identity(request.scope)
        await enforce(request, _policy(name, limit), identity)

    return Depends(check)


def _entry_body(entry: Any) -> dict[str, Any]:
    return EntryRead.model_validate(entry).model_dump(mode="json")


@dataclass(frozen=True)
class MoneyMoveCall:
    """What every money move needs: the caller, the request's transaction and its key."""

    request: Request
    session: AsyncSession
    user: User
    key_header: str | None

    async def once(self, data: BaseModel, effect: Effect) -> JSONResponse:
        key = parse_key(self.key_header)
        route = self.request.scope["route"].path
        fingerprint = request_fingerprint(route, data.model_dump(mode="json"))
        idempotent = IdempotentRequest(self.user.id, key, route, fingerprint)
        metrics = get_wallet_metrics(self.request).idempotency
        return await run_once(self.session, idempotent, effect, metrics)


async def _money_move_call(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    idempotency_key: IdempotencyKeyHeader = None,
) -> MoneyMoveCall:
    return MoneyMoveCall(request, session, user, idempotency_key)


MoneyMoveDep = Annotated[MoneyMoveCall, Depends(_money_move_call)]


def _money_route(*, not_found: bool = False) -> dict[str, Any]:
    responses = dict(MONEY_MOVE_RESPONSES)
    if not_found:
        responses[404] = {"model": ErrorResponse, "description": "No market item with this id"}
    return {
        "status_code": status.HTTP_201_CREATED,
        "response_model": EntryRead,
        "responses": responses,
        "openapi_extra": MONEY_MOVE_OPENAPI,
    }


def _insufficient_funds(error: service.InsufficientFundsError) -> HTTPException:
    return HTTPException(
        status.HTTP_409_CONFLICT,
        f"Insufficient funds: the balance is {error.balance}, this needs {error.needed}.",
    )


@router.post("/top-ups", **_money_route())
async def top_up(data: MoneyMove, call: MoneyMoveDep) -> JSONResponse:
    async def effect() -> tuple[int, dict[str, Any]]:
        return 201, _entry_body(await service.top_up(call.session, call.user.id, data.amount))

    return await call.once(data, effect)


@router.post(
    "/purchases",
    **_money_route(not_found=True),
    dependencies=[_money_rate_limit("purchases")],
)
async def purchase(data: PurchaseRequest, call: MoneyMoveDep) -> JSONResponse:
    async def effect() -> tuple[int, dict[str, Any]]:
        try:
            entry = await service.purchase(call.session, call.user.id, data.item_id)
        except service.UnknownItemError:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"No market item with id {data.item_id}."
            ) from None
        except service.InsufficientFundsError as error:
            raise _insufficient_funds(error) from None
        return 201, _entry_body(entry)

    return await call.once(data, effect)


@router.post("/withdrawals", **_money_route(), dependencies=[_money_rate_limit("withdrawals")])
async def withdraw(data: MoneyMove, call: MoneyMoveDep) -> JSONResponse:
    metrics = get_wallet_metrics(call.request)

    async def effect() -> tuple[int, dict[str, Any]]:
        try:
            entry = await service.withdraw(call.session, call.user.id, data.amount)
        except service.InsufficientFundsError as error:
            metrics.payouts.labels("insufficient_funds").inc()
            raise _insufficient_funds(error) from None
        # Counted before the commit: a failed commit (rare, a 503) over-counts by one.
        metrics.payouts.labels("paid").inc()
        metrics.payout_amount.inc(float(data.amount))
        return 201, _entry_body(entry)

    return await call.once(data, effect)


@router.get("/balance")
async def balance(session: ReadSessionDep, user: CurrentUser) -> BalanceRead:
    amount: Decimal = await service.balance(session, user.id)
    return BalanceRead(balance=amount)


@router.get("/ledger")
async def ledger(
    session: ReadSessionDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> EntryPage:
    entries = await service.ledger(session, user.id, limit=limit, offset=offset)
    return EntryPage(
        items=[EntryRead.model_validate(entry) for entry in entries], limit=limit, offset=offset
    )

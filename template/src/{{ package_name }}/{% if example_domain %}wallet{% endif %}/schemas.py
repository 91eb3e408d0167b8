from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ..platform.money import decimal_string_pattern, parsed_from, published_as
from .models import MONEY_PRECISION, MONEY_SCALE

# Positive: a zero move is refused (422).
AMOUNT_PATTERN = decimal_string_pattern(MONEY_PRECISION, MONEY_SCALE)
Amount = Annotated[
    Decimal,
    Field(gt=0, max_digits=MONEY_PRECISION, decimal_places=MONEY_SCALE),
    parsed_from(
        AMOUNT_PATTERN,
        'give the amount as a decimal string with at most 2 decimals, such as "10.00"',
    ),
    published_as(AMOUNT_PATTERN, "10.00"),
]


class MoneyMove(BaseModel):
    """A top-up or a withdrawal."""

    model_config = ConfigDict(extra="forbid")

    amount: Amount


class PurchaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: UUID


class EntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    kind: str
    amount: Decimal
    balance_after: Decimal
    item_id: UUID | None
    created_at: datetime


class BalanceRead(BaseModel):
    balance: Decimal


class EntryPage(BaseModel):
    items: list[EntryRead]
    limit: int
    offset: int

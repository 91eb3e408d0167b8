import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from .models import MONEY_PRECISION, MONEY_SCALE

# Money travels as a decimal string ("19.99"), never a JSON number; the published pattern is
# exactly what validation accepts. Positive: a zero move is refused.
AMOUNT_PATTERN = (
    r"^\d{1," + str(MONEY_PRECISION - MONEY_SCALE) + r"}(\.\d{1," + str(MONEY_SCALE) + r"})?$"
)


def _amount_string(value: object) -> object:
    if not isinstance(value, str) or not re.fullmatch(AMOUNT_PATTERN, value):
        msg = 'give the amount as a decimal string with at most 2 decimals, such as "10.00"'
        raise ValueError(msg)
    return value


Amount = Annotated[
    Decimal,
    Field(gt=0, max_digits=MONEY_PRECISION, decimal_places=MONEY_SCALE),
    BeforeValidator(_amount_string),
    WithJsonSchema(
        {"type": "string", "pattern": AMOUNT_PATTERN, "examples": ["10.00"]}, mode="validation"
    ),
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

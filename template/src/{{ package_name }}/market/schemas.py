from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ..platform.money import decimal_string_pattern, parsed_from, published_as
from .models import PRICE_PRECISION, PRICE_SCALE, TITLE_MAX_LENGTH

# PostgreSQL text cannot hold NUL; refuse it here rather than fail in the driver.
Title = Annotated[str, Field(min_length=1, max_length=TITLE_MAX_LENGTH, pattern=r"^[^\x00]*$")]
PRICE_PATTERN = decimal_string_pattern(PRICE_PRECISION, PRICE_SCALE)
Price = Annotated[
    Decimal,
    Field(ge=0, max_digits=PRICE_PRECISION, decimal_places=PRICE_SCALE),
    parsed_from(
        PRICE_PATTERN,
        'give the price as a decimal string with at most 2 decimals, such as "19.99"',
    ),
    published_as(PRICE_PATTERN, "19.99"),
]


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Title
    price: Price


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    title: str
    price: Decimal
    created_at: datetime


class ItemPage(BaseModel):
    items: list[ItemRead]
    limit: int
    offset: int

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from .models import PRICE_PRECISION, PRICE_SCALE, TITLE_MAX_LENGTH

# PostgreSQL text cannot hold NUL; refuse it here rather than fail in the driver.
Title = Annotated[str, Field(min_length=1, max_length=TITLE_MAX_LENGTH, pattern=r"^[^\x00]*$")]
# Money travels as a decimal string ("19.99"), never a JSON number (a float on most clients).
# The pattern is the contract: the OpenAPI schema publishes it and validation enforces the very
# same one, so what the schema admits is exactly what the API accepts (fuzzing checks both ways).
INTEGER_DIGITS = PRICE_PRECISION - PRICE_SCALE
PRICE_PATTERN = r"^\d{1," + str(INTEGER_DIGITS) + r"}(\.\d{1," + str(PRICE_SCALE) + r"})?$"


def _price_string(value: object) -> object:
    if not isinstance(value, str) or not re.fullmatch(PRICE_PATTERN, value):
        msg = 'give the price as a decimal string with at most 2 decimals, such as "19.99"'
        raise ValueError(msg)
    return value


Price = Annotated[
    Decimal,
    Field(ge=0, max_digits=PRICE_PRECISION, decimal_places=PRICE_SCALE),
    BeforeValidator(_price_string),
    WithJsonSchema(
        {"type": "string", "pattern": PRICE_PATTERN, "examples": ["19.99"]}, mode="validation"
    ),
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

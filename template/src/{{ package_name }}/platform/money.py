"""Money in JSON: a decimal string ("19.99"), never a JSON number (a float on most clients).

The pattern is the contract: the OpenAPI schema publishes it and validation enforces the very
same one, so what the schema admits is exactly what the API accepts (fuzzing checks both ways).
Schemas build their types from these pieces:
`Annotated[Decimal, Field(ge=0, ...), parsed_from(PATTERN, message), published_as(...)]`.
"""

import re

from pydantic import BeforeValidator, WithJsonSchema


def decimal_string_pattern(precision: int, scale: int) -> str:
    """Up to precision - scale digits before the point and up to scale after it."""
    return r"^\d{1," + str(precision - scale) + r"}(\.\d{1," + str(scale) + r"})?$"


def parsed_from(pattern: str, message: str) -> BeforeValidator:
    """Accepts only a string matching `pattern`; anything else fails with `message`."""

    def check(value: object) -> object:
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            raise ValueError(message)
        return value

    return BeforeValidator(check)


def published_as(pattern: str, example: str) -> WithJsonSchema:
    return WithJsonSchema(
        {"type": "string", "pattern": pattern, "examples": [example]}, mode="validation"
    )

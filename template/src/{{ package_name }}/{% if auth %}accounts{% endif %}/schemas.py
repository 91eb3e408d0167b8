from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

from ..platform.passwords import MAX_PASSWORD_BYTES, MIN_PASSWORD_LENGTH
from .models import EMAIL_MAX_LENGTH


def _fits_the_hasher(password: str) -> str:
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        msg = f"the password is longer than {MAX_PASSWORD_BYTES} bytes"
        raise ValueError(msg)
    return password


# Stored lower-cased: one account per mailbox, whatever the case the user types.
Email = Annotated[EmailStr, Field(max_length=EMAIL_MAX_LENGTH), AfterValidator(str.lower)]
NewPassword = Annotated[
    str, Field(min_length=MIN_PASSWORD_LENGTH), AfterValidator(_fits_the_hasher)
]
# Login does not judge strength (old accounts may predate the rules), only the hasher's bound.
Password = Annotated[str, Field(min_length=1), AfterValidator(_fits_the_hasher)]
# secrets.token_urlsafe(32) is 43 characters.
OpaqueToken = Annotated[str, Field(min_length=1, max_length=128)]


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: NewPassword


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: OpaqueToken


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str
    refresh_expires_in: int = Field(description="Seconds until the refresh token expires.")


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    email: str
    created_at: datetime

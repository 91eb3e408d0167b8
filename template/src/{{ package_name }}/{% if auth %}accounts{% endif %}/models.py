from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column
from uuid6 import uuid7

from ..platform.db import Base

# RFC 5321 caps a forward path at 256 octets; 320 is the common, generous column size.
EMAIL_MAX_LENGTH = 320


class User(Base):
    __tablename__ = "users"
    # E-mails are stored normalised (lower case), so the unique constraint is case-insensitive.
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_normalised"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH), unique=True)
    # A pwdlib hash (algorithm, parameters, salt and digest), never the password.
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RefreshToken(Base):
    """One refresh token; a login starts a family, each refresh adds the next member."""

    __tablename__ = "refresh_tokens"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[UUID] = mapped_column(index=True)
    # sha256 of the token: a database leak gives no usable token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

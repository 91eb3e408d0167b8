from datetime import datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import CheckConstraint, DateTime, Numeric, String, func
from sqlalchemy.orm import Mapped, mapped_column
from uuid6 import uuid7

from ..platform.db import Base

TITLE_MAX_LENGTH = 200
# NUMERIC, never float, for money: 10 digits before the point, 2 after.
PRICE_PRECISION, PRICE_SCALE = 12, 2


class Item(Base):
    __tablename__ = "market_items"
    __table_args__ = (CheckConstraint("price >= 0", name="price_not_negative"),)

    # Time-ordered UUIDs: unguessable, globally unique, and still index-friendly.
    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    title: Mapped[str] = mapped_column(String(TITLE_MAX_LENGTH), index=True)
    price: Mapped[Decimal] = mapped_column(Numeric(PRICE_PRECISION, PRICE_SCALE))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

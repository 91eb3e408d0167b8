"""Balances and their append-only ledger, in NUMERIC (never float) with database guards.

The ledger is the record: a wallet's balance always equals the sum of its entries
(`verify-ledger` checks it). A trigger (migration 0003) refuses UPDATE and DELETE on
ledger entries, and `CHECK (balance >= 0)` is the last line behind the row lock.
"""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Numeric, String, func
from sqlalchemy.orm import Mapped, mapped_column
from uuid6 import uuid7

from ..market.models import Item
from ..platform.db import Base

# 12 digits before the point, 2 after: room for any balance the example can reach.
MONEY_PRECISION, MONEY_SCALE = 14, 2


class EntryKind(StrEnum):
    TOP_UP = "top_up"
    PURCHASE = "purchase"
    WITHDRAWAL = "withdrawal"


class Wallet(Base):
    __tablename__ = "wallets"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    # One wallet per user, created by the first top-up.
    user_id: Mapped[UUID] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True
    )
    balance: Mapped[Decimal] = mapped_column(Numeric(MONEY_PRECISION, MONEY_SCALE))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("kind IN ('top_up', 'purchase', 'withdrawal')", name="kind_known"),
        # A user's ledger, newest first: the listing's and verify-ledger's access path.
        Index("ix_ledger_entries_user_id_created_at", "user_id", "created_at", "id"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("wallets.user_id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16))
    # Signed: credits positive, debits negative, so that the balance is sum(amount).
    amount: Mapped[Decimal] = mapped_column(Numeric(MONEY_PRECISION, MONEY_SCALE))
    balance_after: Mapped[Decimal] = mapped_column(Numeric(MONEY_PRECISION, MONEY_SCALE))
    item_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("market_items.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# Browsing the market by price (what a buyer filters on) ships with the example domain's
# migration, so the schema of renders without it is unchanged.
Index("ix_market_items_price", Item.price)

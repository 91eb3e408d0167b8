"""Money moves: top-ups, purchases, withdrawals. Takes a session, knows no HTTP.

Each move locks the user's wallet row (`SELECT ... FOR UPDATE`) for the rest of the request's
transaction, so concurrent moves on one wallet run one after the other on every replica, then
appends a ledger entry and sets the balance to the entry's `balance_after`. The database's
`CHECK (balance >= 0)` stands behind the funds check.
"""

from collections.abc import Sequence
from decimal import Decimal
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..market import service as market
from .models import MONEY_SCALE, EntryKind, LedgerEntry, Wallet

CENT = Decimal(1).scaleb(-MONEY_SCALE)


class InsufficientFundsError(Exception):
    def __init__(self, balance: Decimal, needed: Decimal) -> None:
        super().__init__(f"balance {balance} is less than {needed}")
        self.balance, self.needed = balance, needed


class UnknownItemError(Exception):
    pass


async def _locked_wallet(session: AsyncSession, user_id: UUID) -> Wallet:
    # populate_existing: the locked read must overwrite any balance cached in the session.
    query = (
        select(Wallet)
        .where(Wallet.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if (wallet := (await session.execute(query)).scalar_one_or_none()) is not None:
        return wallet  # every move but a user's first: one round trip
    # Create on first use; ON CONFLICT makes two concurrent first moves safe.
    await session.execute(
        insert(Wallet).values(user_id=user_id, balance=0).on_conflict_do_nothing()
    )
    # Exactly one row now: inserted just above (or by the concurrent first move), never deleted.
    return (await session.execute(query)).scalar_one()


async def _move(
    session: AsyncSession,
    user_id: UUID,
    kind: EntryKind,
    amount: Decimal,
    item_id: UUID | None = None,
) -> LedgerEntry:
    # As NUMERIC stores it ("5" is 5.00), so that the answer shows what the ledger holds.
    amount = amount.quantize(CENT)
    wallet = await _locked_wallet(session, user_id)
    if wallet.balance + amount < 0:
        raise InsufficientFundsError(wallet.balance, -amount)
    wallet.balance += amount
    entry = LedgerEntry(
        user_id=user_id, kind=kind, amount=amount, balance_after=wallet.balance, item_id=item_id
    )
    session.add(entry)
    # The INSERT returns the server's created_at (RETURNING): no read-back needed.
    await session.flush()
    return entry


async def top_up(session: AsyncSession, user_id: UUID, amount: Decimal) -> LedgerEntry:
    return await _move(session, user_id, EntryKind.TOP_UP, amount)


async def withdraw(session: AsyncSession, user_id: UUID, amount: Decimal) -> LedgerEntry:
    return await _move(session, user_id, EntryKind.WITHDRAWAL, -amount)


async def purchase(session: AsyncSession, user_id: UUID, item_id: UUID) -> LedgerEntry:
    item = await market.get_item(session, item_id)
    if item is None:
        raise UnknownItemError(item_id)
    # The price read now is the price paid: a later market sync does not change this entry.
    return await _move(session, user_id, EntryKind.PURCHASE, -item.price, item.id)


async def balance(session: AsyncSession, user_id: UUID) -> Decimal:
    found = await session.scalar(select(Wallet.balance).where(Wallet.user_id == user_id))
    return found if found is not None else Decimal("0.00")


async def ledger(
    session: AsyncSession, user_id: UUID, *, limit: int, offset: int
) -> Sequence[LedgerEntry]:
    query = (
        select(LedgerEntry)
        .where(LedgerEntry.user_id == user_id)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return (await session.scalars(query)).all()


async def ledger_mismatches(session: AsyncSession) -> list[tuple[UUID, Decimal, Decimal]]:
    """(user, balance, sum of ledger) for every wallet whose balance is not its ledger's sum."""
    sums = (
        select(LedgerEntry.user_id, func.sum(LedgerEntry.amount).label("total"))
        .group_by(LedgerEntry.user_id)
        .subquery()
    )
    total = func.coalesce(sums.c.total, 0)
    query = (
        select(Wallet.user_id, Wallet.balance, total)
        .outerjoin(sums, sums.c.user_id == Wallet.user_id)
        .where(Wallet.balance != total)
        .order_by(Wallet.user_id)
    )
    return [(row[0], row[1], row[2]) for row in await session.execute(query)]

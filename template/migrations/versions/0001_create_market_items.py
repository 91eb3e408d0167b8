"""Create market items.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "market_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("price >= 0", name=op.f("ck_market_items_price_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_items")),
    )
    op.create_index(op.f("ix_market_items_title"), "market_items", ["title"])


def downgrade() -> None:
    op.drop_index(op.f("ix_market_items_title"), table_name="market_items")
    op.drop_table("market_items")

"""Limits and budgets shared across processes: rate_windows, budget_days and budget_holds.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_windows",
        sa.Column("account", sa.String(500), primary_key=True),
        sa.Column("window_start", sa.BigInteger(), primary_key=True),
        sa.Column("used", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "budget_days",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("reserved_usd", sa.Float(), nullable=False, server_default="0"),
        sa.Column("spent_usd", sa.Float(), nullable=False, server_default="0"),
    )
    op.create_table(
        "budget_holds",
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("reserved_usd", sa.Float(), nullable=False),
        sa.Column("cost_before_usd", sa.Float(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("budget_holds")
    op.drop_table("budget_days")
    op.drop_table("rate_windows")

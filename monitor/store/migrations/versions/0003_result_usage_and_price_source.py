"""results: cached-input, cache-write and reasoning tokens, and where each cost's price came from.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("results") as batch:
        batch.add_column(sa.Column("cached_input_tokens", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("cache_write_tokens", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reasoning_tokens", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("price_source", sa.String(length=200), nullable=True))
    # Costs stored before this revision came from [pricing].
    op.execute("UPDATE results SET price_source = 'config' WHERE cost_usd IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("results") as batch:
        batch.drop_column("price_source")
        batch.drop_column("reasoning_tokens")
        batch.drop_column("cache_write_tokens")
        batch.drop_column("cached_input_tokens")

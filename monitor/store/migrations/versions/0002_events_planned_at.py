"""events.planned_at: when the queue turned a new-model event into runs (the poll only records).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 10:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("planned_at", sa.DateTime(), nullable=True))
    # Events recorded before this revision were planned by the poll itself.
    op.execute("UPDATE events SET planned_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("planned_at")

"""provider_polls.listing: the shape of each list (count, fingerprint, filter, suspect) for the next poll.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 14:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("provider_polls") as batch:
        batch.add_column(sa.Column("listing", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("provider_polls") as batch:
        batch.drop_column("listing")

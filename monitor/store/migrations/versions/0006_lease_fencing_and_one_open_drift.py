"""leases.token and leases.generation (fencing), and at most one open drift event per model.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_DRIFT = "kind = 'drift' AND reported_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("leases") as batch:
        batch.add_column(sa.Column("token", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("generation", sa.Integer(), nullable=False, server_default="0"))
    # Duplicates an earlier race left open are closed (the oldest stays open), so the index can exist.
    op.execute(
        "UPDATE events SET reported_at = created_at "
        f"WHERE {OPEN_DRIFT} AND id NOT IN ("
        f"SELECT keep FROM (SELECT MIN(id) AS keep FROM events WHERE {OPEN_DRIFT} "
        "GROUP BY provider, model_id) AS oldest)"
    )
    op.create_index(
        "uq_events_open_drift",
        "events",
        ["provider", "model_id"],
        unique=True,
        sqlite_where=sa.text(OPEN_DRIFT),
        postgresql_where=sa.text(OPEN_DRIFT),
    )


def downgrade() -> None:
    op.drop_index("uq_events_open_drift", table_name="events")
    with op.batch_alter_table("leases") as batch:
        batch.drop_column("generation")
        batch.drop_column("token")

"""Batches, the notifications outbox, retirement dates, shared send schedules and concurrency leases.

Batches sent to providers' batch APIs; the notifications outbox; models' retirement dates (one
retirement event per model); errored results indexed for the metrics; the requests/min send schedule
and concurrency leases of accounts with shared limits.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_RETIREMENT = "kind = 'retirement'"
ERRORED = "error_kind IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("remote_id", sa.String(200), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("custom_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_batches_status", "batches", ["status"])
    op.create_index("ix_batches_run", "batches", ["run_id"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("events.id"), nullable=True),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_notifications_status_next_try", "notifications", ["status", "next_try_at"])
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("retires_at", sa.DateTime(), nullable=True))
    op.create_index(
        "uq_events_retirement",
        "events",
        ["provider", "model_id"],
        unique=True,
        sqlite_where=sa.text(ONE_RETIREMENT),
        postgresql_where=sa.text(ONE_RETIREMENT),
    )
    # The metrics' errors by kind (monitor/service/metrics_collect.py) read only the errored rows.
    op.create_index(
        "ix_results_error_kind",
        "results",
        ["error_kind"],
        sqlite_where=sa.text(ERRORED),
        postgresql_where=sa.text(ERRORED),
    )
    # Limits shared across processes: the requests/min send schedule and concurrency leases.
    op.create_table(
        "rate_schedules",
        sa.Column("account", sa.String(500), primary_key=True),
        sa.Column("next_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "concurrency_leases",
        sa.Column("account", sa.String(500), primary_key=True),
        sa.Column("holder", sa.String(200), primary_key=True),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("wanted", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("concurrency_leases")
    op.drop_table("rate_schedules")
    op.drop_index("ix_results_error_kind", table_name="results")
    op.drop_index("uq_events_retirement", table_name="events")
    with op.batch_alter_table("models") as batch:
        batch.drop_column("retires_at")
    op.drop_index("ix_notifications_status_next_try", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("ix_batches_run", table_name="batches")
    op.drop_index("ix_batches_status", table_name="batches")
    op.drop_table("batches")

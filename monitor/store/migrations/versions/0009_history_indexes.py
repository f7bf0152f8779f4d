"""History at scale: indexes on runs, events and results' price source; the run_stats_cache table.

run_stats_cache keeps each finished run's leaderboard statistics (monitor/pipeline/report/board_stats.py).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_runs_suite_status", "runs", ["suite_id", "status"]),
    ("ix_runs_event", "runs", ["event_id"]),
    ("ix_runs_provider_model", "runs", ["provider", "model_id", "created_at"]),
    ("ix_runs_created", "runs", ["created_at", "id"]),
    ("ix_events_created", "events", ["created_at", "id"]),
    # A run's results in stored order, and its newest one: without it PostgreSQL walks the primary key.
    ("ix_results_run_id", "results", ["run_id", "id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    # reprice's `price_source LIKE 'estimated%'`: SQLite's LIKE is case-insensitive and uses an index
    # only in the NOCASE collation; PostgreSQL's uses one only with the pattern operator class.
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_results_price_source",
            "results",
            ["price_source"],
            postgresql_ops={"price_source": "varchar_pattern_ops"},
        )
    else:
        op.create_index("ix_results_price_source", "results", [sa.text("price_source COLLATE NOCASE")])
    op.create_table(
        "run_stats_cache",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(400), nullable=False),
        sa.Column("stats", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_run_stats_cache_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", name="pk_run_stats_cache"),
    )


def downgrade() -> None:
    op.drop_table("run_stats_cache")
    op.drop_index("ix_results_price_source", table_name="results")
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)

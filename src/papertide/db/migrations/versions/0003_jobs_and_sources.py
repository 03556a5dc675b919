"""Scheduled jobs and live sources: job runs, job locks, per-source state, GitHub repos.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("counts", sa.JSON, nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_job_run"),
    )
    op.create_index("ix_job_run_job_started_at", "job_run", ["job", "started_at"])
    op.create_table(
        "job_lock",
        sa.Column("job", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("job", name="pk_job_lock"),
    )
    op.create_table(
        "ingest_state",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("value", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_ingest_state"),
    )
    op.create_table(
        "github_repo",
        sa.Column("repo", sa.String(200), nullable=False),
        sa.Column("etag", sa.Text, nullable=True),
        sa.Column("checked_at", sa.DateTime, nullable=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="unknown"),
        sa.Column("moved_to", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("repo", name="pk_github_repo"),
    )


def downgrade() -> None:
    for table in ("github_repo", "ingest_state", "job_lock", "job_run"):
        op.drop_table(table)

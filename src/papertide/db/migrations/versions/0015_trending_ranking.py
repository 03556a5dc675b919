"""Trending rankings computed once (by a worker, or one host at a time) and stored (issue #11).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trending_ranking",
        sa.Column("window_name", sa.String(8), primary_key=True),
        sa.Column("content_version", sa.Integer, nullable=False),
        sa.Column("computed_at", sa.DateTime, nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("ranking", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("trending_ranking")

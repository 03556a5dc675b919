"""Rate limits shared by every process on the database (issue #11).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_hit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("bucket", sa.String(40), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_rate_limit_hit_bucket", "rate_limit_hit", ["bucket", "key", "at"])
    op.create_index("ix_rate_limit_hit_expires_at", "rate_limit_hit", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_rate_limit_hit_expires_at", table_name="rate_limit_hit")
    op.drop_index("ix_rate_limit_hit_bucket", table_name="rate_limit_hit")
    op.drop_table("rate_limit_hit")

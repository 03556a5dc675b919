"""Failed log-ins per account, for the per-account back-off (issue #10).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", sa.DateTime, nullable=False),
        sa.Column("blocked_until", sa.DateTime, nullable=True),
    )
    op.create_index("ix_login_throttle_last_failure_at", "login_throttle", ["last_failure_at"])


def downgrade() -> None:
    op.drop_index("ix_login_throttle_last_failure_at", table_name="login_throttle")
    op.drop_table("login_throttle")

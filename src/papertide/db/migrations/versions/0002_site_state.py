"""A content version counter, bumped by every write that changes what pages show.

Web processes compare it to decide whether a cached page is still current.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "site_state",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_site_state"),
    )
    op.bulk_insert(table, [{"key": "content_version", "value": 0}])


def downgrade() -> None:
    op.drop_table("site_state")

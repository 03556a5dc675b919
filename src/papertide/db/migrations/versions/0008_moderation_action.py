"""The moderation audit log (issue #5).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "moderation_action",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "actor_id", sa.Integer, sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("actor_name", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_moderation_action_created_at", "moderation_action", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_moderation_action_created_at", table_name="moderation_action")
    op.drop_table("moderation_action")

"""Personal API tokens and the personal feed's address (issue #13).

API tokens are created and revoked in settings and stored hashed. A member's personal feed
lives at an address signed with the site's secret key over `user.feed_nonce`: a new nonce
gives a new address and retires the old one; NULL means no personal feed.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("scopes", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_used_at", sa.DateTime, nullable=True),
    )
    op.create_index("ix_api_token_user_id", "api_token", ["user_id"])
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("feed_nonce", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_column("feed_nonce")
    op.drop_index("ix_api_token_user_id", table_name="api_token")
    op.drop_table("api_token")

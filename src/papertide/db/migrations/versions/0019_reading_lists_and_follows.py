"""Reading lists, follows and For-you feedback (issue #14).

A member's named lists of papers, private or public, with notes; the authors they follow and
the searches they saved (`follow`: kind "author" or "search", its value as written, and a
key that makes a repeat a no-op); and `paper_feedback`, a member's "more like this" (+1) or
"not for me" (-1) on a paper, which the For-you ranking learns from.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reading_list",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("public", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_reading_list_user_id", "reading_list", ["user_id"])
    op.create_table(
        "reading_list_item",
        sa.Column(
            "list_id",
            sa.Integer,
            sa.ForeignKey("reading_list.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "paper_id", sa.String(64), sa.ForeignKey("paper.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("added_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("list_id", "paper_id", name="pk_reading_list_item"),
    )
    op.create_index("ix_reading_list_item_paper_id", "reading_list_item", ["paper_id"])
    op.create_table(
        "follow",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("value_key", sa.String(600), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("user_id", "kind", "value_key", name="uq_follow_user_id"),
    )
    op.create_table(
        "paper_feedback",
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "paper_id", sa.String(64), sa.ForeignKey("paper.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("signal", sa.SmallInteger, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "paper_id", name="pk_paper_feedback"),
    )


def downgrade() -> None:
    op.drop_table("paper_feedback")
    op.drop_table("follow")
    op.drop_index("ix_reading_list_item_paper_id", table_name="reading_list_item")
    op.drop_table("reading_list_item")
    op.drop_index("ix_reading_list_user_id", table_name="reading_list")
    op.drop_table("reading_list")

"""Submissions in progress (issue #10): a claim per paper while arXiv is asked, counted
against the submitter's daily cap.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submission_claim",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("paper_id", name="uq_submission_claim_paper_id"),
    )
    op.create_index("ix_submission_claim_user_date", "submission_claim", ["user_id", "date"])


def downgrade() -> None:
    op.drop_index("ix_submission_claim_user_date", table_name="submission_claim")
    op.drop_table("submission_claim")

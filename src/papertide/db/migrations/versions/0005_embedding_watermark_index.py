"""Index paper_embedding by (model, embedded_at): the vector index's staleness check reads
the newest vector of a model, which otherwise scans the table.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_paper_embedding_model", table_name="paper_embedding")
    op.create_index(
        "ix_paper_embedding_model_embedded_at", "paper_embedding", ["model", "embedded_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_paper_embedding_model_embedded_at", table_name="paper_embedding")
    op.create_index("ix_paper_embedding_model", "paper_embedding", ["model"])

"""Index paper_embedding by (model, dim, embedded_at): the vector index's staleness checks
(count and newest vector of a model and dimension) are then answered from the index alone.

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
        "ix_paper_embedding_model_dim_embedded_at",
        "paper_embedding",
        ["model", "dim", "embedded_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_paper_embedding_model_dim_embedded_at", table_name="paper_embedding")
    op.create_index("ix_paper_embedding_model", "paper_embedding", ["model"])

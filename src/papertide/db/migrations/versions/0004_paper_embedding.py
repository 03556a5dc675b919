"""Paper embeddings: one vector per paper and model, so the vector index can be rebuilt.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_embedding",
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),  # float16, little-endian
        sa.Column("embedded_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("paper_id", name="pk_paper_embedding"),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["paper.id"], name="fk_paper_embedding_paper_id_paper",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_paper_embedding_model", "paper_embedding", ["model"])


def downgrade() -> None:
    op.drop_table("paper_embedding")

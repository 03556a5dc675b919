"""The keyword index shared through the database as a snapshot (issue #11).

A worker packs its tantivy keyword index into `keyword_snapshot_chunk` rows of ~8 MiB and
marks the `keyword_snapshot` row complete last, so that a new web host downloads it in
seconds and catches up by revision instead of building it (search/text_snapshot.py).

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "keyword_snapshot",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("format", sa.Integer, nullable=False),
        sa.Column("watermark", sa.Integer, nullable=False),
        sa.Column("docs", sa.Integer, nullable=False),
        sa.Column("byte_size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "keyword_snapshot_chunk",
        sa.Column("snapshot_id", sa.Integer, nullable=False),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("snapshot_id", "ordinal", name="pk_keyword_snapshot_chunk"),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["keyword_snapshot.id"],
            name="fk_keyword_snapshot_chunk_snapshot_id_keyword_snapshot",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("keyword_snapshot_chunk")
    op.drop_table("keyword_snapshot")

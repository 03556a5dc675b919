"""What Hugging Face says of a paper besides its text (issue #13): the discussion's id, the
organization it is claimed by, its thumbnail and media, so the API can repeat them.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("paper", sa.Column("hf_discussion_id", sa.String(64), nullable=True))
    op.add_column("paper", sa.Column("hf_organization", sa.JSON, nullable=True))
    op.add_column("paper", sa.Column("hf_thumbnail", sa.Text, nullable=True))
    op.add_column("paper", sa.Column("hf_media_urls", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("paper") as batch:
        for name in ("hf_media_urls", "hf_thumbnail", "hf_organization", "hf_discussion_id"):
            batch.drop_column(name)

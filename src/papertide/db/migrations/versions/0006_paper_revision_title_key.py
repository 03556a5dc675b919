"""paper.revision (what the keyword index catches up from) and paper.title_key (exact-title
lookups through a B-tree instead of a full-text phrase query), both indexed.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from papertide.text import title_key

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BATCH = 5_000


def upgrade() -> None:
    op.add_column("paper", sa.Column("revision", sa.Integer, nullable=False, server_default="0"))
    op.add_column("paper", sa.Column("title_key", sa.Text, nullable=True))
    conn = op.get_bind()
    paper = sa.table("paper", sa.column("id"), sa.column("title"), sa.column("title_key"))
    last = ""
    while True:
        rows = conn.execute(
            sa.select(paper.c.id, paper.c.title)
            .where(paper.c.id > last)
            .order_by(paper.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        conn.execute(
            paper.update()
            .where(paper.c.id == sa.bindparam("pid"))
            .values(title_key=sa.bindparam("key")),
            [{"pid": row.id, "key": title_key(row.title)} for row in rows],
        )
        last = rows[-1].id
    op.create_index("ix_paper_revision", "paper", ["revision"])
    op.create_index("ix_paper_title_key", "paper", ["title_key"])


def downgrade() -> None:
    op.drop_index("ix_paper_title_key", table_name="paper")
    op.drop_index("ix_paper_revision", table_name="paper")
    with op.batch_alter_table("paper") as batch:
        batch.drop_column("title_key")
        batch.drop_column("revision")

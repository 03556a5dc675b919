"""The delivery index ends in id, so PostgreSQL claims a batch in id order (issue #11).

A claim reads `WHERE edition_id = ? AND status = ? ORDER BY id LIMIT 50`. SQLite's index on
(edition_id, status) already ends in the rowid, which is the id; a PostgreSQL B-tree on the
two columns does not, so PostgreSQL read every pending delivery of the edition and sorted
them (79 ms a claim at 100,000 deliveries; bench/digest_claim.py). With id as a third column
both walk the index in order and stop after 50 rows.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_delivery_edition_status", table_name="delivery")
    op.create_index("ix_delivery_edition_status", "delivery", ["edition_id", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_delivery_edition_status", table_name="delivery")
    op.create_index("ix_delivery_edition_status", "delivery", ["edition_id", "status"])

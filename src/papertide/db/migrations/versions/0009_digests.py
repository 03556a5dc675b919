"""Email digests (issue #6): subscribers, editions, the delivery ledger, papers sent.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscriber",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("email_key", sa.Text, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("frequency", sa.String(16), nullable=False, server_default="daily"),
        sa.Column("topics", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("token_salt", sa.String(64), nullable=False),
        sa.Column("confirm_token_hash", sa.String(64), nullable=True),
        sa.Column("confirm_expires_at", sa.DateTime, nullable=True),
        sa.Column("confirmations_sent", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_confirmation_at", sa.DateTime, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("confirmed_at", sa.DateTime, nullable=True),
        sa.Column("status_changed_at", sa.DateTime, nullable=True),
        sa.Column("suppressed_reason", sa.Text, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="fk_subscriber_user_id_user", ondelete="SET NULL"
        ),
        sa.UniqueConstraint("email_key", name="uq_subscriber_email_key"),
        sa.UniqueConstraint("confirm_token_hash", name="uq_subscriber_confirm_token_hash"),
    )
    op.create_index("ix_subscriber_status_frequency", "subscriber", ["status", "frequency"])
    op.create_table(
        "edition",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("papers", sa.JSON, nullable=False),
        sa.Column("built_at", sa.DateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="built"),
        sa.UniqueConstraint("kind", "period", name="uq_edition_kind_period"),
    )
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("edition_id", sa.Integer, nullable=False),
        sa.Column("subscriber_id", sa.Integer, nullable=False),
        sa.Column("papers", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("claimed_at", sa.DateTime, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime, nullable=True),
        sa.Column("sent_at", sa.DateTime, nullable=True),
        sa.Column("message_id", sa.Text, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["edition.id"],
            name="fk_delivery_edition_id_edition",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
            name="fk_delivery_subscriber_id_subscriber",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("edition_id", "subscriber_id", name="uq_delivery_edition_subscriber"),
    )
    op.create_index("ix_delivery_edition_status", "delivery", ["edition_id", "status"])
    op.create_table(
        "digest_paper",
        sa.Column("subscriber_id", sa.Integer, nullable=False),
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column("edition_id", sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
            name="fk_digest_paper_subscriber_id_subscriber",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["paper.id"], name="fk_digest_paper_paper_id_paper", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["edition.id"],
            name="fk_digest_paper_edition_id_edition",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscriber_id", "paper_id", name="pk_digest_paper"),
    )


def downgrade() -> None:
    op.drop_table("digest_paper")
    op.drop_index("ix_delivery_edition_status", table_name="delivery")
    op.drop_table("delivery")
    op.drop_table("edition")
    op.drop_index("ix_subscriber_status_frequency", table_name="subscriber")
    op.drop_table("subscriber")

"""Initial schema: papers, star snapshots, users, daily entries, upvotes, comments, FTS.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("abstract", sa.Text, nullable=False, server_default=""),
        sa.Column("authors", sa.JSON, nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("published_at", sa.DateTime, nullable=True),
        sa.Column("updated_at", sa.DateTime, nullable=True),
        sa.Column("comments", sa.Text, nullable=True),
        sa.Column("doi", sa.Text, nullable=True),
        sa.Column("journal_ref", sa.Text, nullable=True),
        sa.Column("github_repo", sa.String(200), nullable=True),
        sa.Column("project_page", sa.Text, nullable=True),
        sa.Column("withdrawn", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("ai_summary", sa.Text, nullable=True),
        sa.Column("ai_keywords", sa.JSON, nullable=True),
        sa.Column("imported_upvotes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("imported_comments", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("modified_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_paper"),
        sa.UniqueConstraint("seq", name="uq_paper_seq"),
    )
    op.create_index("ix_paper_published_at", "paper", ["published_at"])
    op.create_index("ix_paper_github_repo", "paper", ["github_repo"])
    op.create_table(
        "repo_stars",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("repo", sa.String(200), nullable=False),
        sa.Column("stars", sa.Integer, nullable=False),
        sa.Column("observed_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_repo_stars"),
        sa.UniqueConstraint("repo", "observed_at", name="uq_repo_stars_repo_observed_at"),
    )
    op.create_table(
        "user",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("username_key", sa.String(64), nullable=False),
        sa.Column("fullname", sa.Text, nullable=True),
        sa.Column("email", sa.Text, nullable=True),
        sa.Column("email_key", sa.Text, nullable=True),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("role", sa.String(16), nullable=False, server_default="member"),
        sa.Column("origin", sa.String(16), nullable=False, server_default="local"),
        sa.Column("avatar_url", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_user"),
        sa.UniqueConstraint("username_key", name="uq_user_username_key"),
        sa.UniqueConstraint("email_key", name="uq_user_email_key"),
    )
    op.create_table(
        "daily_entry",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("submitted_by", sa.Integer, nullable=True),
        sa.Column("submitted_at", sa.DateTime, nullable=False),
        sa.Column("comment", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_daily_entry"),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["paper.id"], name="fk_daily_entry_paper_id_paper", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"], ["user.id"], name="fk_daily_entry_submitted_by_user",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("paper_id", "date", name="uq_daily_entry_paper_date"),
    )
    op.create_index("ix_daily_entry_date", "daily_entry", ["date"])
    op.create_table(
        "upvote",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "paper_id", name="pk_upvote"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="fk_upvote_user_id_user", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["paper.id"], name="fk_upvote_paper_id_paper", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_upvote_paper_id", "upvote", ["paper_id"])
    op.create_table(
        "comment",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("parent_id", sa.Integer, nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("edited_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_comment"),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["paper.id"], name="fk_comment_paper_id_paper", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="fk_comment_user_id_user", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["parent_id"], ["comment.id"], name="fk_comment_parent_id_comment"),
    )
    op.create_index("ix_comment_paper_id", "comment", ["paper_id"])
    if op.get_bind().dialect.name == "sqlite":
        _create_sqlite_fts()


def _create_sqlite_fts() -> None:
    # External-content FTS5 index over paper, keyed by paper.seq; kept in step by triggers.
    op.execute(
        "CREATE VIRTUAL TABLE paper_fts USING fts5("
        "title, authors, abstract, content='paper', content_rowid='seq', "
        "tokenize='porter unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER paper_fts_ai AFTER INSERT ON paper BEGIN "
        "INSERT INTO paper_fts(rowid, title, authors, abstract) "
        "VALUES (new.seq, new.title, new.authors, new.abstract); END"
    )
    op.execute(
        "CREATE TRIGGER paper_fts_ad AFTER DELETE ON paper BEGIN "
        "INSERT INTO paper_fts(paper_fts, rowid, title, authors, abstract) "
        "VALUES ('delete', old.seq, old.title, old.authors, old.abstract); END"
    )
    op.execute(
        "CREATE TRIGGER paper_fts_au AFTER UPDATE OF title, authors, abstract ON paper BEGIN "
        "INSERT INTO paper_fts(paper_fts, rowid, title, authors, abstract) "
        "VALUES ('delete', old.seq, old.title, old.authors, old.abstract); "
        "INSERT INTO paper_fts(rowid, title, authors, abstract) "
        "VALUES (new.seq, new.title, new.authors, new.abstract); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS paper_fts")
    for table in ("comment", "upvote", "daily_entry", "user", "repo_stars", "paper"):
        op.drop_table(table)

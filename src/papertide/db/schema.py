"""Table definitions (SQLAlchemy Core). Migrations under db/migrations/ create them."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

paper = sa.Table(
    "paper",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # arXiv id without version
    # A stable integer key for the full-text index (SQLite's own rowid may change on VACUUM).
    sa.Column("seq", sa.Integer, nullable=False, unique=True),
    sa.Column("version", sa.Integer, nullable=True),  # latest known version, None if unknown
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("abstract", sa.Text, nullable=False, server_default=""),
    sa.Column("authors", sa.JSON, nullable=False),  # ordered list of names
    sa.Column("categories", sa.JSON, nullable=False),  # primary first
    sa.Column("published_at", sa.DateTime, nullable=True),  # first version, UTC
    sa.Column("updated_at", sa.DateTime, nullable=True),  # latest version, UTC
    sa.Column("comments", sa.Text, nullable=True),
    sa.Column("doi", sa.Text, nullable=True),
    sa.Column("journal_ref", sa.Text, nullable=True),
    sa.Column("github_repo", sa.String(200), nullable=True),  # "owner/name"
    sa.Column("project_page", sa.Text, nullable=True),
    sa.Column("withdrawn", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("ai_summary", sa.Text, nullable=True),
    sa.Column("ai_keywords", sa.JSON, nullable=True),
    # Counts as imported from Hugging Face; local votes/comments add to these.
    sa.Column("imported_upvotes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("imported_comments", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("modified_at", sa.DateTime, nullable=False),
    # Raised (to one more than the highest) whenever what search indexes changes: the text,
    # date, categories, repository or featuring. The keyword index catches up from it.
    sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
    # The title folded for exact-title lookups (papertide.text.title_key).
    sa.Column("title_key", sa.Text, nullable=True),
    # What Hugging Face says of the paper besides its text, repeated by the API (issue #13):
    # its discussion's id, the organization that claims it ({name, fullname, avatar}), the
    # thumbnail and media URLs on its page.
    sa.Column("hf_discussion_id", sa.String(64), nullable=True),
    sa.Column("hf_organization", sa.JSON, nullable=True),
    sa.Column("hf_thumbnail", sa.Text, nullable=True),
    sa.Column("hf_media_urls", sa.JSON, nullable=True),
)
sa.Index("ix_paper_published_at", paper.c.published_at)
sa.Index("ix_paper_revision", paper.c.revision)
sa.Index("ix_paper_title_key", paper.c.title_key)
sa.Index("ix_paper_github_repo", paper.c.github_repo)

repo_stars = sa.Table(
    "repo_stars",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("repo", sa.String(200), nullable=False),  # "owner/name", lowercased
    sa.Column("stars", sa.Integer, nullable=False),
    sa.Column("observed_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("repo", "observed_at", name="uq_repo_stars_repo_observed_at"),
)

user = sa.Table(
    "user",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("username_key", sa.String(64), nullable=False, unique=True),  # lowercased
    sa.Column("fullname", sa.Text, nullable=True),
    sa.Column("email", sa.Text, nullable=True),
    sa.Column("email_key", sa.Text, nullable=True, unique=True),
    sa.Column("password_hash", sa.Text, nullable=True),  # None: cannot log in (imported)
    sa.Column("role", sa.String(16), nullable=False, server_default="member"),
    sa.Column("origin", sa.String(16), nullable=False, server_default="local"),  # local | hf
    sa.Column("avatar_url", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # Set by a curator or admin: a suspended account can neither log in nor act (issue #5).
    sa.Column("suspended_at", sa.DateTime, nullable=True),
    # The personal feed's address is signed over this (issue #13); NULL: no personal feed.
    sa.Column("feed_nonce", sa.String(64), nullable=True),
)

# A signed-in browser: the cookie holds a random token, the database only its SHA-256 (issue #5).
user_session = sa.Table(
    "user_session",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
)
sa.Index("ix_user_session_user_id", user_session.c.user_id)
sa.Index("ix_user_session_expires_at", user_session.c.expires_at)

api_token = sa.Table(
    "api_token",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("scopes", sa.String(100), nullable=False),  # space-separated, e.g. "read vote"
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_used_at", sa.DateTime, nullable=True),
)
sa.Index("ix_api_token_user_id", api_token.c.user_id)

daily_entry = sa.Table(
    "daily_entry",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "paper_id", sa.String(64), sa.ForeignKey("paper.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column(
        "submitted_by", sa.Integer, sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True
    ),
    sa.Column("submitted_at", sa.DateTime, nullable=False),
    sa.Column("comment", sa.Text, nullable=True),
    sa.UniqueConstraint("paper_id", "date", name="uq_daily_entry_paper_date"),
)
sa.Index("ix_daily_entry_date", daily_entry.c.date)

# A submission in progress (issue #10): held while arXiv is asked, counted against the cap.
submission_claim = sa.Table(
    "submission_claim",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
    sa.Column("paper_id", sa.String(64), nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("paper_id", name="uq_submission_claim_paper_id"),
)
sa.Index("ix_submission_claim_user_date", submission_claim.c.user_id, submission_claim.c.date)

# Failed log-ins per account (or per unknown login name), for the back-off (issue #10).
login_throttle = sa.Table(
    "login_throttle",
    metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failure_at", sa.DateTime, nullable=False),
    sa.Column("blocked_until", sa.DateTime, nullable=True),
)
sa.Index("ix_login_throttle_last_failure_at", login_throttle.c.last_failure_at)

# Rate-limited events (sign-ups, log-ins, votes, ...), one row per event allowed, shared by
# every web process on the database (issue #11). Times are seconds since the epoch.
rate_limit_hit = sa.Table(
    "rate_limit_hit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("bucket", sa.String(40), nullable=False),
    sa.Column("key", sa.String(300), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),  # when it leaves its window
)
sa.Index(
    "ix_rate_limit_hit_bucket", rate_limit_hit.c.bucket, rate_limit_hit.c.key, rate_limit_hit.c.at
)
sa.Index("ix_rate_limit_hit_expires_at", rate_limit_hit.c.expires_at)

# Reading lists (issue #14): a member's named lists of papers, private unless made public.
reading_list = sa.Table(
    "reading_list",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("public", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)
sa.Index("ix_reading_list_user_id", reading_list.c.user_id)

reading_list_item = sa.Table(
    "reading_list_item",
    metadata,
    sa.Column(
        "list_id",
        sa.Integer,
        sa.ForeignKey("reading_list.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "paper_id", sa.String(64), sa.ForeignKey("paper.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("added_at", sa.DateTime, nullable=False),
)
sa.Index("ix_reading_list_item_paper_id", reading_list_item.c.paper_id)

# What a member follows (issue #14): authors by name, and saved searches (a query string).
follow = sa.Table(
    "follow",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # author | search
    sa.Column("value", sa.Text, nullable=False),  # the name as written, or the search's query
    sa.Column("value_key", sa.String(600), nullable=False),  # folded: a repeat is a no-op
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("user_id", "kind", "value_key"),
)

# A member's "more like this" (+1) or "not for me" (-1) on a paper, for For you (issue #14).
paper_feedback = sa.Table(
    "paper_feedback",
    metadata,
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "paper_id", sa.String(64), sa.ForeignKey("paper.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("signal", sa.SmallInteger, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

upvote = sa.Table(
    "upvote",
    metadata,
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "paper_id", sa.String(64), sa.ForeignKey("paper.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("created_at", sa.DateTime, nullable=False),
)
sa.Index("ix_upvote_paper_id", upvote.c.paper_id)

comment = sa.Table(
    "comment",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "paper_id", sa.String(64), sa.ForeignKey("paper.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("comment.id"), nullable=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("edited_at", sa.DateTime, nullable=True),
)
sa.Index("ix_comment_paper_id", comment.c.paper_id)

site_state = sa.Table(
    "site_state",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)

job_run = sa.Table(
    "job_run",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job", sa.String(64), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),  # running | ok | failed
    sa.Column("counts", sa.JSON, nullable=True),
    sa.Column("message", sa.Text, nullable=True),
)
sa.Index("ix_job_run_job_started_at", job_run.c.job, job_run.c.started_at)

job_lock = sa.Table(
    "job_lock",
    metadata,
    sa.Column("job", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(128), nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
)

# Each trending window's ranking, computed once for all web hosts (issue #11,
# papertide.ranking.stored): `params` are the formula's parameters it was computed with,
# `ranking` the clock, the window's start and the scored papers, as JSON.
trending_ranking = sa.Table(
    "trending_ranking",
    metadata,
    sa.Column("window_name", sa.String(8), primary_key=True),
    sa.Column("content_version", sa.Integer, nullable=False),
    sa.Column("computed_at", sa.DateTime, nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("ranking", sa.JSON, nullable=False),
)

# The keyword index (search/text_index.py) packed by a worker, so that a new web host
# downloads it instead of building it (issue #11, search/text_snapshot.py). A snapshot is
# written chunk by chunk and marked complete last; readers only take a complete one.
keyword_snapshot = sa.Table(
    "keyword_snapshot",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("format", sa.Integer, nullable=False),  # text_index.FORMAT it was packed in
    sa.Column("watermark", sa.Integer, nullable=False),  # the highest paper.revision it holds
    sa.Column("docs", sa.Integer, nullable=False),
    sa.Column("byte_size", sa.BigInteger, nullable=False),  # of the archive, all chunks
    sa.Column("sha256", sa.String(64), nullable=False),  # of the archive
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("complete", sa.Boolean, nullable=False, server_default=sa.false()),
)

# ~8 MiB pieces of a snapshot's archive, so that no single value is huge.
keyword_snapshot_chunk = sa.Table(
    "keyword_snapshot_chunk",
    metadata,
    sa.Column(
        "snapshot_id",
        sa.Integer,
        sa.ForeignKey("keyword_snapshot.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("ordinal", sa.Integer, primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

# Cursors and checkpoints of live sources (e.g. the OAI-PMH harvest's last datestamp).
ingest_state = sa.Table(
    "ingest_state",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# What we know of each GitHub repository we poll: conditional-request ETag, renames, deletions.
github_repo = sa.Table(
    "github_repo",
    metadata,
    sa.Column("repo", sa.String(200), primary_key=True),  # "owner/name", lowercased
    sa.Column("etag", sa.Text, nullable=True),
    sa.Column("checked_at", sa.DateTime, nullable=True),
    # ok | moved | missing | unknown
    sa.Column("status", sa.String(16), nullable=False, server_default="unknown"),
    sa.Column("moved_to", sa.String(200), nullable=True),
)

# One embedding per paper (for the configured model); the vector index is rebuilt from these.
paper_embedding = sa.Table(
    "paper_embedding",
    metadata,
    sa.Column(
        "paper_id", sa.String(64), sa.ForeignKey("paper.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("dim", sa.Integer, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),  # float16, little-endian
    sa.Column("embedded_at", sa.DateTime, nullable=False),
)
sa.Index(
    "ix_paper_embedding_model_dim_embedded_at",
    paper_embedding.c.model,
    paper_embedding.c.dim,
    paper_embedding.c.embedded_at,
)

# What curators and admins did (issue #5): featuring, moving, hiding, suspending.
moderation_action = sa.Table(
    "moderation_action",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("actor_id", sa.Integer, sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True),
    sa.Column("actor_name", sa.String(64), nullable=False),  # kept if the account goes
    sa.Column("action", sa.String(32), nullable=False),  # feature | unfeature | move | ...
    sa.Column("target", sa.String(200), nullable=False),  # a paper id, "comment:12", "user:ada"
    sa.Column("detail", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
)
sa.Index("ix_moderation_action_created_at", moderation_action.c.created_at)

# Email digests (issue #6, docs/digests.md). A subscriber confirms by a single-use token
# (stored hashed); links in digests are signed with a per-subscriber salt (rotating it revokes
# them). An edition freezes the papers of one digest, and per subscriber the personal
# selection (delivery.papers), so a resend after a crash sends the same content.
subscriber = sa.Table(
    "subscriber",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("email", sa.Text, nullable=False),  # as normalised for sending
    sa.Column("email_key", sa.Text, nullable=False, unique=True),  # lowercased, for uniqueness
    sa.Column("user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True),
    sa.Column("frequency", sa.String(16), nullable=False, server_default="daily"),  # | weekly
    # {"categories": [...], "keywords": [...], "search": "...", "like_upvotes": bool};
    # empty: trending only
    sa.Column("topics", sa.JSON, nullable=False),
    # pending | confirmed | paused | unsubscribed | suppressed
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("token_salt", sa.String(64), nullable=False),
    sa.Column("confirm_token_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("confirm_expires_at", sa.DateTime, nullable=True),
    sa.Column("confirmations_sent", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_confirmation_at", sa.DateTime, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("confirmed_at", sa.DateTime, nullable=True),
    sa.Column("status_changed_at", sa.DateTime, nullable=True),
    sa.Column("suppressed_reason", sa.Text, nullable=True),
)
sa.Index("ix_subscriber_status_frequency", subscriber.c.status, subscriber.c.frequency)

edition = sa.Table(
    "edition",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),  # daily | weekly
    sa.Column("period", sa.String(16), nullable=False),  # "2026-11-27" | "2026-W48"
    sa.Column("papers", sa.JSON, nullable=False),  # the edition's trending paper ids, in order
    sa.Column("built_at", sa.DateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="built"),  # | done
    sa.UniqueConstraint("kind", "period", name="uq_edition_kind_period"),
)

# The delivery ledger: one row per edition and subscriber, written before and after each SMTP
# transaction: pending -> claimed -> sent | failed | suppressed (or skipped: nothing to send).
delivery = sa.Table(
    "delivery",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "edition_id", sa.Integer, sa.ForeignKey("edition.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "subscriber_id",
        sa.Integer,
        sa.ForeignKey("subscriber.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("papers", sa.JSON, nullable=False),  # the frozen personal selection
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("claimed_by", sa.String(200), nullable=True),
    sa.Column("claimed_at", sa.DateTime, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime, nullable=True),
    sa.Column("sent_at", sa.DateTime, nullable=True),
    sa.Column("message_id", sa.Text, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.UniqueConstraint("edition_id", "subscriber_id", name="uq_delivery_edition_subscriber"),
)
# Ends in id so that a claim walks it in id order on PostgreSQL too (SQLite's ends in the
# rowid anyway; migration 0013).
sa.Index("ix_delivery_edition_status", delivery.c.edition_id, delivery.c.status, delivery.c.id)

# Papers a subscriber was sent (frozen into a delivery), so no paper comes twice.
digest_paper = sa.Table(
    "digest_paper",
    metadata,
    sa.Column(
        "subscriber_id",
        sa.Integer,
        sa.ForeignKey("subscriber.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "paper_id", sa.String(64), sa.ForeignKey("paper.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "edition_id", sa.Integer, sa.ForeignKey("edition.id", ondelete="CASCADE"), nullable=False
    ),
)

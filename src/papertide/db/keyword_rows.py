"""What the keyword index (search/text_index.py, tantivy) holds of each paper, read here.

The index catches up by paper revision: every writer raises `paper.revision` of the papers
it changes (db/writes.py), so "what changed" is the papers above the index's watermark.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

# A paper's text, and what the search filters look at.
_ROWS = (
    "SELECT p.seq, p.title, p.authors, p.abstract, p.published_at, p.categories, "
    "p.github_repo IS NOT NULL AS has_code, "
    "EXISTS (SELECT 1 FROM daily_entry d WHERE d.paper_id = p.id) AS featured "
    "FROM paper p"
)


def max_revision(conn: sa.Connection) -> int:
    """The highest paper revision: an index holding it is caught up."""
    return int(conn.execute(sa.text("SELECT max(revision) FROM paper")).scalar() or 0)


def changed_since(conn: sa.Connection, watermark: int) -> int:
    """How many papers changed after revision `watermark` (ix_paper_revision)."""
    query = sa.text("SELECT count(*) FROM paper WHERE revision > :watermark")
    return int(conn.execute(query, {"watermark": watermark}).scalar_one())


def index_rows(
    conn: sa.Connection, since: int | None = None, upto: int | None = None, batch: int = 5_000
) -> Iterator[sa.Row[Any]]:
    """Every paper (or those with `since < revision <= upto`), streamed `batch` rows at a time.

    Rows have seq, title, authors, abstract, published_at, categories, has_code and featured.
    """
    if since is None or upto is None:
        yield from conn.execute(sa.text(_ROWS)).yield_per(batch)
        return
    changed = sa.text(_ROWS + " WHERE p.revision > :since AND p.revision <= :upto")
    yield from conn.execute(changed, {"since": since, "upto": upto}).yield_per(batch)

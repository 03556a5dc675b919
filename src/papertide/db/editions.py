"""Digest editions (issue #6): the SQL behind building one — the edition row, who is due a
delivery, what each subscriber was sent before, and the frozen deliveries.

An edition is unique per (kind, period). It is created with status `building`; deliveries
and their `digest_paper` rows are then written a batch of subscribers per transaction, and
the status becomes `built` last. A subscriber with a delivery row is done, so a build that
stopped halfway resumes with the subscribers that have none, and never writes one twice.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from papertide.db.schema import delivery, edition, subscriber

BUILDING, BUILT = "building", "built"


@dataclass(frozen=True, slots=True)
class EditionRow:
    id: int
    kind: str
    period: str
    papers: list[str]  # trending order
    built_at: dt.datetime
    status: str


@dataclass(frozen=True, slots=True)
class RecipientRow:
    id: int
    email: str
    user_id: int | None
    topics: Any  # the JSON as stored


@dataclass(frozen=True, slots=True)
class NewDelivery:
    subscriber_id: int
    papers: list[str]
    status: str  # pending | skipped


_EDITION_COLUMNS = (
    edition.c.id,
    edition.c.kind,
    edition.c.period,
    edition.c.papers,
    edition.c.built_at,
    edition.c.status,
)


def _edition(row: Any) -> EditionRow:
    return EditionRow(
        row.id, row.kind, row.period, list(row.papers or []), row.built_at, row.status
    )


def find(conn: sa.Connection, kind: str, period: str) -> EditionRow | None:
    row = conn.execute(
        sa.select(*_EDITION_COLUMNS).where(edition.c.kind == kind, edition.c.period == period)
    ).first()
    return _edition(row) if row else None


def by_id(conn: sa.Connection, edition_id: int) -> EditionRow | None:
    row = conn.execute(sa.select(*_EDITION_COLUMNS).where(edition.c.id == edition_id)).first()
    return _edition(row) if row else None


def _insert(conn: sa.Connection, table: sa.Table) -> Any:
    """An INSERT ... ON CONFLICT DO NOTHING on `table` for SQLite and PostgreSQL."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def create(
    conn: sa.Connection, kind: str, period: str, papers: Sequence[str], now: dt.datetime
) -> EditionRow:
    """Create the edition (status `building`), or return the one a concurrent build made."""
    values = {
        "kind": kind,
        "period": period,
        "papers": list(papers),
        "built_at": now,
        "status": BUILDING,
    }
    conn.execute(_insert(conn, edition), values)
    found = find(conn, kind, period)
    assert found is not None
    return found


def building(conn: sa.Connection, kind: str) -> list[EditionRow]:
    """Editions of `kind` whose build has not finished, oldest first."""
    rows = conn.execute(
        sa.select(*_EDITION_COLUMNS)
        .where(edition.c.kind == kind, edition.c.status == BUILDING)
        .order_by(edition.c.id)
    )
    return [_edition(row) for row in rows]


def set_status(conn: sa.Connection, edition_id: int, status: str) -> None:
    conn.execute(edition.update().where(edition.c.id == edition_id).values(status=status))


def overlapping(conn: sa.Connection, paper_ids: Iterable[str], exclude: int) -> list[int]:
    """Other editions holding any of `paper_ids`: the only ones a subscriber can have been
    sent one of them in (a delivery's papers are always some of its edition's)."""
    wanted = set(paper_ids)
    rows = conn.execute(sa.select(edition.c.id, edition.c.papers).where(edition.c.id != exclude))
    return [row.id for row in rows if wanted.intersection(row.papers or ())]


_DUE = (
    sa.select(subscriber.c.id, subscriber.c.email, subscriber.c.user_id, subscriber.c.topics)
    .where(
        subscriber.c.status == "confirmed",
        subscriber.c.frequency == sa.bindparam("frequency"),
        subscriber.c.id > sa.bindparam("after"),
        ~sa.exists().where(
            delivery.c.edition_id == sa.bindparam("edition_id"),
            delivery.c.subscriber_id == subscriber.c.id,
        ),
    )
    .order_by(subscriber.c.id)
    .limit(sa.bindparam("limit"))
)
_DUE_COUNT = sa.select(sa.func.count()).select_from(
    _DUE.with_only_columns(subscriber.c.id).limit(None).order_by(None).subquery()
)


def due(
    conn: sa.Connection, edition_id: int, frequency: str, after: int, limit: int
) -> list[RecipientRow]:
    """Confirmed subscribers of `frequency` above id `after` without a delivery of the edition."""
    params = {"edition_id": edition_id, "frequency": frequency, "after": after, "limit": limit}
    return [RecipientRow(*row) for row in conn.execute(_DUE, params)]


def due_count(conn: sa.Connection, edition_id: int, frequency: str) -> int:
    params = {"edition_id": edition_id, "frequency": frequency, "after": 0}
    return int(conn.execute(_DUE_COUNT, params).scalar_one())


_SENT = sa.select(delivery.c.subscriber_id, delivery.c.papers).where(
    delivery.c.edition_id.in_(sa.bindparam("editions", expanding=True)),
    delivery.c.subscriber_id.in_(sa.bindparam("subscribers", expanding=True)),
)


def sent_before(
    conn: sa.Connection, edition_ids: Sequence[int], subscriber_ids: Sequence[int]
) -> dict[int, set[str]]:
    """The papers each subscriber was given in the editions `edition_ids`.

    Reads the frozen deliveries through their (edition, subscriber) unique index, so the cost
    follows the editions that share papers with this one, not each subscriber's history.
    """
    sent: dict[int, set[str]] = defaultdict(set)
    if not edition_ids or not subscriber_ids:
        return sent
    params = {"editions": list(edition_ids), "subscribers": list(subscriber_ids)}
    for row in conn.execute(_SENT, params):
        papers = json.loads(row.papers) if isinstance(row.papers, str) else row.papers
        sent[row.subscriber_id].update(papers or ())
    return sent


# Plain driver statements: SQLAlchemy's per-row parameter processing cost three times what
# SQLite spends inserting ~10 rows per subscriber (bench/digest_compose.py). ON CONFLICT DO
# NOTHING is the same in SQLite and PostgreSQL.
_ADD_DELIVERY = (
    "INSERT INTO delivery (edition_id, subscriber_id, papers, status) VALUES ({}, {}, {}, {}) "
    "ON CONFLICT DO NOTHING"
)
_ADD_DIGEST_PAPER = (
    "INSERT INTO digest_paper (subscriber_id, paper_id, edition_id) VALUES ({}, {}, {}) "
    "ON CONFLICT DO NOTHING"
)


# psycopg's INSERT rowcount is lost unless asked for (issue #11).
_KEEP_ROWCOUNT: Any = {"preserve_rowcount": True}


def _driver_sql(conn: sa.Connection, template: str) -> str:
    """`template` with the driver's placeholders (`?` for sqlite3, `%s` for psycopg)."""
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    return template.format(*[marker] * template.count("{}"))


def add_deliveries(conn: sa.Connection, edition_id: int, rows: Sequence[NewDelivery]) -> int:
    """Freeze deliveries and record their papers as sent; existing ones are left alone."""
    if not rows:
        return 0
    result = conn.exec_driver_sql(
        _driver_sql(conn, _ADD_DELIVERY),
        [(edition_id, r.subscriber_id, json.dumps(r.papers), r.status) for r in rows],
        execution_options=_KEEP_ROWCOUNT,
    )
    papers = [(r.subscriber_id, pid, edition_id) for r in rows for pid in r.papers]
    if papers:
        conn.exec_driver_sql(_driver_sql(conn, _ADD_DIGEST_PAPER), papers)
    return int(result.rowcount)


def delivery_counts(conn: sa.Connection, edition_id: int) -> dict[str, int]:
    """How many of the edition's deliveries are in each status."""
    rows = conn.execute(
        sa.select(delivery.c.status, sa.func.count())
        .where(delivery.c.edition_id == edition_id)
        .group_by(delivery.c.status)
    )
    return {status: int(count) for status, count in rows}


class CandidateText:
    """The candidates' titles, authors and abstracts in a private in-memory FTS5 table with
    paper_fts's tokenizer (migration 0001), so a topic matches exactly as the search's
    keyword side would, at tens of microseconds per topic instead of a query over the corpus.
    """

    def __init__(self, rows: Iterable[tuple[str, str, str, str]]) -> None:
        self._conn = sqlite3.connect(":memory:")
        self._conn.execute(
            "CREATE VIRTUAL TABLE candidate USING fts5(id UNINDEXED, title, authors, abstract, "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
        self._conn.executemany("INSERT INTO candidate VALUES (?, ?, ?, ?)", rows)

    def matching(self, expression: str) -> frozenset[str]:
        """Ids of the candidates matching an FTS5 `expression` (sanitised by search.keyword)."""
        try:
            rows = self._conn.execute(
                "SELECT id FROM candidate WHERE candidate MATCH ?", (expression,)
            ).fetchall()
        except sqlite3.OperationalError:  # an expression FTS5 refuses matches nothing
            return frozenset()
        return frozenset(row[0] for row in rows)

    def close(self) -> None:
        self._conn.close()

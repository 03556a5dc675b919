"""Copy a whole deployment from one database to another: `papertide db copy` (issue #11).

Works from `schema.metadata`, so every table the migrations create is copied, in
foreign-key order, in batches read by keyset pagination on the primary key. Each batch is
written in one transaction together with its place in `papertide_copy_state`, a small table
in the target, so a killed copy resumes after its last committed batch. What a backend builds
for itself (SQLite's FTS5 index, generated columns) is left to the target's own triggers and
generated columns; PostgreSQL sequences are moved past the copied ids at the end.
"""

from __future__ import annotations

import copy
import datetime as dt
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from papertide.db import vector_sql
from papertide.db.engine import Database, driver_url
from papertide.db.migrate import current_revision, head_revision, is_known_revision, upgrade
from papertide.db.schema import metadata

DEFAULT_BATCH = 5000
STATE_TABLE = "papertide_copy_state"
# Vectors to fill on PostgreSQL from which the HNSW indexes are dropped and built afterwards.
REBUILD_HNSW_OVER = 5_000
_VECTOR_DIMS = sa.text("SELECT DISTINCT dim FROM paper_embedding")

_state_metadata = sa.MetaData()
copy_state = sa.Table(
    STATE_TABLE,
    _state_metadata,
    sa.Column("table_name", sa.String(200), primary_key=True),
    sa.Column("source", sa.Text, nullable=False),  # the source URL, password hidden
    sa.Column("last_key", sa.JSON, nullable=True),  # primary key of the last copied row
    sa.Column("rows_copied", sa.Integer, nullable=False),
    sa.Column("done", sa.Boolean, nullable=False),
)


class CopyError(Exception):
    """A copy that cannot go on; the message names what is wrong and what to do."""


@dataclass
class TablePlan:
    """One table's share of the copy and how far it got."""

    name: str
    columns: list[str]
    key: list[str]
    source_rows: int
    copied: int = 0
    last_key: list[Any] | None = None
    done: bool = False


@dataclass
class TableCheck:
    """The end-of-copy check of one table: its counts and the sampled rows that differ."""

    name: str
    source_rows: int
    target_rows: int
    sampled: int
    differing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and not self.differing


def shown(url: str) -> str:
    """`url` fit to print: the password hidden."""
    return driver_url(url).render_as_string(hide_password=True)


def _connect(url: str, role: str) -> Database:
    parsed = driver_url(url)
    sqlite_file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if role == "source" and sqlite_file is not None and not Path(sqlite_file).is_file():
        raise CopyError(f"the source {shown(url)} names no SQLite file: check the path")
    try:
        database = Database(url)
        with database.read() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.ArgumentError as exc:
        raise CopyError(f"the {role} URL {url!r} is not a database URL: {exc}") from exc
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise CopyError(
            f"cannot connect to the {role} database {shown(url)} ({reason}): check the URL, "
            "that the server runs, and that it accepts this user"
        ) from exc
    except ModuleNotFoundError as exc:
        raise CopyError(f"the {role} URL {shown(url)} needs a driver: {exc}") from exc
    return database


def _check_revision(database: Database, role: str) -> str | None:
    with database.read() as conn:
        revision = current_revision(conn)
    if revision is not None and not is_known_revision(revision):
        raise CopyError(
            f"the {role} database {shown(database.url)} has schema {revision}, newer than this "
            f"Papertide knows (head {head_revision()}): run `papertide db copy` from the newer "
            "Papertide that migrated it"
        )
    return revision


def open_source(url: str) -> Database:
    """The source database, reachable and at this version's schema head."""
    database = _connect(url, "source")
    revision = _check_revision(database, "source")
    if revision is None:
        raise CopyError(f"the source {shown(url)} has no Papertide schema: check the URL")
    if revision != head_revision():
        raise CopyError(
            f"the source {shown(url)} has schema {revision}, older than {head_revision()}: "
            f"run `papertide migrate --database-url {shown(url)}` first"
        )
    return database


def open_target(url: str) -> Database:
    """The target database, reachable, migrated to head (it may be newly created)."""
    database = _connect(url, "target")
    _check_revision(database, "target")
    upgrade(database)
    return database


class Copier:
    """Copies every table of `schema.metadata` from `source` to `target`."""

    def __init__(self, source: Database, target: Database, batch_size: int = DEFAULT_BATCH):
        if driver_url(source.url) == driver_url(target.url):
            raise CopyError("--from and --to name the same database: name another target")
        self.source, self.target, self.batch_size = source, target, batch_size
        self.tables = [t for t in metadata.sorted_tables if self._present(t)]

    def _present(self, table: sa.Table) -> bool:
        """Whether both databases have `table` (one that only a backend has is its own)."""
        names = []
        for database in (self.source, self.target):
            with database.read() as conn:
                names.append(sa.inspect(conn).has_table(table.name))
        return all(names)

    def plan(self, force: bool = False) -> tuple[list[TablePlan], bool]:
        """What is to copy, and whether this resumes an earlier copy into the target.

        A target that holds rows of its own is refused unless `force`, which empties it.
        """
        source_name = shown(self.source.url)
        with self.target.read() as conn:
            state = _read_state(conn)
        sources = {row["source"] for row in state.values()}
        if state and not force:
            if sources != {source_name}:
                raise CopyError(
                    f"the target holds an unfinished copy from {', '.join(sorted(sources))}: "
                    "resume it with that --from, or start over with --force"
                )
            self._add_state_rows(source_name, [t for t in self.tables if t.name not in state])
            with self.target.read() as conn:
                return self._plans(_read_state(conn)), True
        if not state and not force:
            self._refuse_non_empty()
        self._start(source_name)
        with self.target.read() as conn:
            return self._plans(_read_state(conn)), False

    def _plans(self, state: dict[str, dict[str, Any]]) -> list[TablePlan]:
        plans = []
        for table in self.tables:
            row = state[table.name]
            plans.append(
                TablePlan(
                    name=table.name,
                    columns=self._columns(table),
                    key=[c.name for c in table.primary_key.columns],
                    source_rows=_count(self.source, table),
                    copied=row["rows_copied"],
                    last_key=row["last_key"],
                    done=row["done"],
                )
            )
        return plans

    def _columns(self, table: sa.Table) -> list[str]:
        """Columns both databases have, less those a backend computes itself."""
        present = []
        for database in (self.source, self.target):
            with database.read() as conn, warnings.catch_warnings():
                # pgvector's types are unknown to SQLAlchemy's reflection; only names matter.
                warnings.filterwarnings("ignore", "Did not recognize type", sa.exc.SAWarning)
                present.append({c["name"] for c in sa.inspect(conn).get_columns(table.name)})
        return [
            c.name
            for c in table.columns
            if c.computed is None and all(c.name in names for names in present)
        ]

    def _refuse_non_empty(self) -> None:
        """Refuse a target with more rows than the migrations alone put there."""
        seeded = _seeded_counts()
        extra = [
            f"{table.name} ({rows} rows)"
            for table in self.tables
            if (rows := _count(self.target, table)) > seeded.get(table.name, 0)
        ]
        if extra:
            raise CopyError(
                f"the target {shown(self.target.url)} is not empty: {', '.join(extra[:5])}"
                f"{' …' if len(extra) > 5 else ''}. Name an empty database, or pass --force "
                "to delete the target's rows and copy over them"
            )

    def _start(self, source_name: str) -> None:
        """Empty the target (migration seeds included) and record a fresh copy state."""
        with self.target.write() as conn:
            _state_metadata.create_all(conn)
            conn.execute(copy_state.delete())
            for table in reversed(self.tables):
                conn.execute(table.delete())
        self._add_state_rows(source_name, self.tables)

    def _add_state_rows(self, source_name: str, tables: Sequence[sa.Table]) -> None:
        """Start recording the progress of `tables` (a resumed copy may meet a new one)."""
        if not tables:
            return
        rows = [
            {"table_name": t.name, "source": source_name, "rows_copied": 0, "done": False}
            for t in tables
        ]
        with self.target.write() as conn:
            conn.execute(copy_state.insert(), rows)

    def copy_table(self, plan: TablePlan, progress: Callable[[int], None]) -> None:
        """Copy the rest of one table, a batch per transaction; `progress(rows)` after each."""
        table = metadata.tables[plan.name]
        columns = [table.c[name] for name in plan.columns]
        key = [table.c[name] for name in plan.key]
        binds = {c.name: sa.bindparam(c.name, type_=_write_type(c)) for c in columns}
        insert = table.insert().values(binds)
        while not plan.done:
            query = sa.select(*columns).order_by(*key).limit(self.batch_size)
            if plan.last_key is not None:
                query = query.where(_after(key, _decode_key(key, plan.last_key)))
            with self.source.read() as conn:
                rows = [dict(row) for row in conn.execute(query).mappings()]
            if rows:
                plan.last_key = _encode_key([rows[-1][c.name] for c in key])
            plan.copied += len(rows)
            plan.done = len(rows) < self.batch_size
            with self.target.write() as conn:
                if rows:
                    conn.execute(insert, rows)
                conn.execute(
                    copy_state.update()
                    .where(copy_state.c.table_name == plan.name)
                    .values(last_key=plan.last_key, rows_copied=plan.copied, done=plan.done)
                )
            progress(len(rows))

    def finish(self) -> None:
        """Move the target's id counters past the copied ids; on PostgreSQL also give every
        copied vector its pgvector column (the blob is what travels), so search and related
        papers have all of them at once rather than after the hosts fill them in."""
        with self.target.write() as conn:
            for table in self.tables:
                column = table.autoincrement_column
                if column is not None and self.target.dialect == "postgresql":
                    _advance_sequence(conn, table, column)
        if self.target.dialect == "postgresql":
            self._fill_vectors()

    def _fill_vectors(self) -> None:
        # An HNSW index takes each new vector one by one (80,317 took over 5 minutes on two
        # cores); built once over all of them it is several times faster. So a large fill
        # drops the indexes first, and the end builds one for every dimension stored. A copy
        # killed midway finishes the fill, and builds the indexes, when it is run again.
        with self.target.read() as conn:
            missing = vector_sql.missing_count(conn)
            indexed = vector_sql.hnsw_dims(conn)
            stored = [int(dim) for dim in conn.execute(_VECTOR_DIMS).scalars()]
        if missing >= REBUILD_HNSW_OVER:
            with self.target.write() as conn:
                for dim in indexed:
                    vector_sql.drop_hnsw(conn, dim)
        filled = 1
        while filled:
            with self.target.write() as conn:
                filled = vector_sql.fill_missing(conn)
        for dim in sorted(set(stored) | set(indexed)):
            with self.target.write() as conn:
                vector_sql.ensure_hnsw(conn, dim)

    def verify(self, sample: int) -> list[TableCheck]:
        """Counts of every table on both sides, and up to `sample` random rows compared."""
        checks = []
        for table in self.tables:
            check = TableCheck(
                table.name, _count(self.source, table), _count(self.target, table), 0
            )
            columns = [table.c[name] for name in self._columns(table)]
            key = list(table.primary_key.columns)
            with self.source.read() as conn:
                picked = (
                    conn.execute(sa.select(*columns).order_by(sa.func.random()).limit(sample))
                    .mappings()
                    .all()
                )
            keys = [tuple(row[c.name] for c in key) for row in picked]
            found: dict[tuple[Any, ...], dict[str, Any]] = {}
            with self.target.read() as conn:
                if keys:
                    query = sa.select(*columns).where(sa.tuple_(*key).in_(keys))
                    for row in conn.execute(query).mappings():
                        found[tuple(row[c.name] for c in key)] = dict(row)
            check.sampled = len(picked)
            for row, row_key in zip(picked, keys, strict=True):
                if found.get(row_key) != dict(row):
                    check.differing.append(", ".join(str(v) for v in row_key))
            checks.append(check)
        return checks

    def drop_state(self) -> None:
        """The copy is complete: the target becomes a plain Papertide database."""
        with self.target.write() as conn:
            _state_metadata.drop_all(conn)


def _read_state(conn: sa.Connection) -> dict[str, dict[str, Any]]:
    if not sa.inspect(conn).has_table(STATE_TABLE):
        return {}
    return {row["table_name"]: dict(row) for row in conn.execute(copy_state.select()).mappings()}


def _count(database: Database, table: sa.Table) -> int:
    with database.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _seeded_counts() -> dict[str, int]:
    """Rows per table of a freshly migrated database (e.g. site_state's counter)."""
    fresh = Database("sqlite://")
    try:
        upgrade(fresh)
        return {table.name: _count(fresh, table) for table in metadata.sorted_tables}
    finally:
        fresh.dispose()


def _write_type(column: sa.Column[Any]) -> sa.types.TypeEngine[Any]:
    """The column's type, except that a JSON column writes Python None as SQL NULL."""
    if isinstance(column.type, sa.JSON):
        json_type = copy.copy(column.type)
        json_type.none_as_null = True
        return json_type
    return column.type


def _after(key: Sequence[sa.Column[Any]], values: Sequence[Any]) -> sa.ColumnElement[bool]:
    if len(key) == 1:
        after: sa.ColumnElement[bool] = key[0] > values[0]
    else:
        after = sa.tuple_(*key) > sa.tuple_(*values)
    return after


def _encode_key(values: Sequence[Any]) -> list[Any]:
    return [v.isoformat() if isinstance(v, dt.date) else v for v in values]


def _decode_key(key: Sequence[sa.Column[Any]], values: Sequence[Any]) -> list[Any]:
    decoded = []
    for column, value in zip(key, values, strict=True):
        try:
            kind = column.type.python_type if value is not None else None
        except NotImplementedError:
            kind = None
        if kind is dt.datetime:
            value = dt.datetime.fromisoformat(value)
        elif kind is dt.date:
            value = dt.date.fromisoformat(value)
        decoded.append(value)
    return decoded


def _advance_sequence(conn: sa.Connection, table: sa.Table, column: sa.Column[Any]) -> None:
    quoted = conn.dialect.identifier_preparer
    conn.execute(
        sa.text(
            f"SELECT setval(pg_get_serial_sequence(:table, :column), "
            f"COALESCE(MAX({quoted.quote(column.name)}), 0) + 1, false) "
            f"FROM {quoted.format_table(table)}"
        ),
        {"table": quoted.format_table(table), "column": column.name},
    )

"""`papertide db copy` between SQLite and PostgreSQL (issue #11), through the real command.

On a SQLite run the PostgreSQL side comes from a server this module starts itself, so these
tests run in both CI runs.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from tests.backends import PostgresServer, on_postgresql, postgres_server
from tests.db.deployment import (
    MODEL,
    NOW,
    add_community,
    add_full_deployment,
    add_small_deployment,
    add_vectors,
    all_rows,
    counts,
)
from typer.testing import CliRunner

from papertide import cli
from papertide.cli import EXIT_ERROR, app
from papertide.db import Database, fts, vector_sql
from papertide.db import copy as copying
from papertide.db.copy import STATE_TABLE
from papertide.db.migrate import upgrade
from papertide.db.schema import paper, user
from papertide.db.writes import write_batch
from papertide.models import PaperRecord

runner = CliRunner()


@pytest.fixture(scope="session")
def server(postgres: PostgresServer | None) -> Iterator[PostgresServer]:
    """The run's PostgreSQL server, or on a SQLite run one started for these tests."""
    if postgres is not None:
        yield postgres
        return
    with postgres_server() as started:
        yield started


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.console, "width", 1000)


def sqlite_db(path: Path) -> Database:
    database = Database(f"sqlite:///{path}")
    upgrade(database)
    return database


def copy(source: str, target: str, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["db", "copy", "--from", source, "--to", target, *extra])
    return result.exit_code, result.output


def test_round_trip_sqlite_postgresql_sqlite(tmp_path: Path, server: PostgresServer) -> None:
    source = sqlite_db(tmp_path / "source.db")
    add_small_deployment(source)
    expected = all_rows(source)
    assert all(expected.values()), "every table has rows to copy"
    middle_url = server.new_database(migrated=False)  # migrated by the copy itself
    back_url = f"sqlite:///{tmp_path / 'back' / 'copy.db'}"

    code, output = copy(source.url, middle_url, "--batch-size", "2")
    assert code == 0, output
    assert "counts and samples match" in output
    assert re.search(r"│ paper +│ 8 +│ 8 +│ 8 +│ ok", output), output
    middle = Database(middle_url)
    assert all_rows(middle) == expected
    with middle.read() as conn:  # every copied vector has its pgvector column too
        missing = "SELECT count(*) FROM paper_embedding WHERE embedding IS NULL"
        assert conn.exec_driver_sql(missing).scalar_one() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM paper_embedding").scalar_one() > 0
    code, output = copy(middle_url, back_url)
    assert code == 0, output
    back = Database(back_url)
    assert all_rows(back) == expected

    with back.read() as conn:  # the target's own triggers filled its FTS5 index
        hits, total = fts.match(conn, "protein", fts.Filters(), 10, 0)
        assert total == 1
        assert [hit.arxiv_id for hit in hits] == ["2608.00001"]
        assert (
            conn.execute(sa.select(sa.func.count()).where(paper.c.ai_keywords.is_(None))).scalar()
            == 7
        )
        assert not sa.inspect(conn).has_table(STATE_TABLE)
    with middle.write() as conn:  # sequences moved past the copied ids
        most = conn.execute(sa.select(sa.func.max(user.c.id))).scalar_one()
        new = conn.execute(
            user.insert().values(username="New", username_key="new", created_at=NOW)
        ).inserted_primary_key[0]
        assert new == most + 1
        assert (
            conn.execute(sa.select(sa.func.count()).where(paper.c.ai_keywords.is_(None))).scalar()
            == 7
        )
    for database in (source, middle, back):
        database.dispose()
    server.drop(middle_url)


def test_a_large_fill_builds_the_hnsw_indexes_once(
    tmp_path: Path, server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over REBUILD_HNSW_OVER vectors the copy drops the HNSW indexes, fills every halfvec
    and builds one index per stored dimension; a copy killed before that build is finished
    by running it again."""
    monkeypatch.setattr(copying, "REBUILD_HNSW_OVER", 1)
    source = sqlite_db(tmp_path / "source.db")
    add_small_deployment(source)
    target_url = server.new_database(migrated=False)
    code, output = copy(source.url, target_url)
    assert code == 0, output
    target = Database(target_url)
    with target.read() as conn:
        assert vector_sql.missing_count(conn) == 0
        dims = sorted(conn.exec_driver_sql("SELECT DISTINCT dim FROM paper_embedding").scalars())
        assert dims == [16]
        # The migration's index for the default model, and one for the copied vectors.
        assert vector_sql.hnsw_dims(conn) == [16, 384]
        query = vector_sql.literal(np.ones(16, dtype=np.float32))
        assert len(vector_sql.nearest(conn, MODEL, 16, query, 3)) == 3

    # Killed after the drop, with vectors still to fill: the copy, run again, mends both.
    with target.write() as conn:
        conn.exec_driver_sql("UPDATE paper_embedding SET embedding = NULL")
        for dim in vector_sql.hnsw_dims(conn):
            vector_sql.drop_hnsw(conn, dim)
    copying.Copier(source, target).finish()
    with target.read() as conn:
        assert vector_sql.missing_count(conn) == 0
        assert vector_sql.hnsw_dims(conn) == [16]
    target.dispose()
    source.dispose()
    server.drop(target_url)


def test_refuses_a_non_empty_target_unless_forced(db: Database, server: PostgresServer) -> None:
    """From this run's backend to PostgreSQL (PostgreSQL to PostgreSQL on a PostgreSQL run)."""
    add_small_deployment(db)
    target_url = server.new_database()
    target = Database(target_url)
    other = PaperRecord(arxiv_id="2101.00001", title="Already here", authors=["A"], categories=[])
    with target.write() as conn:
        write_batch(conn, [other], [])
    code, output = copy(db.url, target_url)
    assert code == EXIT_ERROR
    assert "is not empty: paper (1 rows)" in output
    assert "pass --force to delete the target's rows" in output
    assert counts(target)["paper"] == 1

    code, output = copy(db.url, target_url, "--force")
    assert code == 0, output
    assert all_rows(target) == all_rows(db)
    target.dispose()
    server.drop(target_url)


def test_a_killed_copy_resumes(tmp_path: Path, server: PostgresServer) -> None:
    source = sqlite_db(tmp_path / "source.db")
    records = [
        PaperRecord(arxiv_id=f"2601.{n:05d}", title=f"Paper {n}", authors=["A"], categories=[])
        for n in range(3000)
    ]
    with source.write() as conn:
        write_batch(conn, records, [])
    add_vectors(source, [r.arxiv_id for r in records])
    add_community(source, [r.arxiv_id for r in records[:50]], people=20, per_person=5)
    total = sum(counts(source).values())
    target_url = server.new_database()
    target = Database(target_url)
    command = [sys.executable, "-m", "papertide", "db", "copy", "--from", source.url]
    command += ["--to", target_url, "--batch-size", "20"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        copied = _wait_for_copied_rows(target, process)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        process.kill()
    copied = _copied_rows(target)
    assert 0 < copied < total, "killed in the middle of the copy"

    code, output = copy(source.url, target_url, "--batch-size", "1000")
    assert code == 0, output
    assert f"Resuming the copy: {copied} rows were copied before." in output
    assert all_rows(target) == all_rows(source)
    with target.read() as conn:
        assert not sa.inspect(conn).has_table(STATE_TABLE)
    target.dispose()
    server.drop(target_url)


def _copied_rows(target: Database) -> int:
    with target.read() as conn:
        if not sa.inspect(conn).has_table(STATE_TABLE):
            return 0
        return int(
            conn.exec_driver_sql(f"SELECT SUM(rows_copied) FROM {STATE_TABLE}").scalar() or 0
        )


def _wait_for_copied_rows(target: Database, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        copied = _copied_rows(target)
        if copied > 0:
            return copied
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        time.sleep(0.01)
    raise AssertionError("the copy wrote nothing in 60 s")


def test_a_different_source_does_not_resume_another_copy(tmp_path: Path) -> None:
    first, second = sqlite_db(tmp_path / "a.db"), sqlite_db(tmp_path / "b.db")
    target = sqlite_db(tmp_path / "target.db")
    from papertide.db.copy import Copier

    Copier(first, target).plan()  # started, then stopped before any batch
    code, output = copy(second.url, target.url)
    assert code == EXIT_ERROR
    assert f"the target holds an unfinished copy from {first.url}" in output
    assert "resume it with that --from, or start over with --force" in output
    code, output = copy(second.url, target.url, "--force")
    assert code == 0, output


def test_a_resumed_copy_takes_in_a_table_it_did_not_know(tmp_path: Path) -> None:
    """Resuming with a newer Papertide: a table the first run had no state for is copied too."""
    from papertide.db.copy import Copier, copy_state

    source = sqlite_db(tmp_path / "source.db")
    add_small_deployment(source)
    target = sqlite_db(tmp_path / "target.db")
    Copier(source, target).plan()
    with target.write() as conn:
        conn.execute(copy_state.delete().where(copy_state.c.table_name == "comment"))
    code, output = copy(source.url, target.url)
    assert code == 0, output
    assert "Resuming the copy: 0 rows were copied before." in output
    assert all_rows(target) == all_rows(source)


def test_errors_name_what_is_wrong(tmp_path: Path) -> None:
    source = sqlite_db(tmp_path / "source.db")
    code, output = copy(f"sqlite:///{tmp_path / 'missing.db'}", source.url)
    assert code == EXIT_ERROR
    assert f"the source sqlite:///{tmp_path / 'missing.db'} names no SQLite file" in output

    code, output = copy(source.url, "postgresql://someone:secret@127.0.0.1:9/papers")
    assert code == EXIT_ERROR
    assert (
        "cannot connect to the target database postgresql+psycopg://someone:***@127.0.0.1:9/papers"
        in output
    )
    assert "secret" not in output

    newer = sqlite_db(tmp_path / "newer.db")
    with newer.write() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    code, output = copy(source.url, newer.url)
    assert code == EXIT_ERROR
    assert f"the target database {newer.url} has schema 9999, newer than this Papertide" in output

    older = Database(f"sqlite:///{tmp_path / 'older.db'}")
    upgrade(older, "0005")
    code, output = copy(older.url, newer.url)
    assert code == EXIT_ERROR
    assert f"run `papertide migrate --database-url {older.url}` first" in output

    code, output = copy(source.url, source.url)
    assert code == EXIT_ERROR
    assert "--from and --to name the same database" in output


@pytest.mark.slow
@pytest.mark.skipif(
    not on_postgresql(),
    reason="the same SQLite -> PostgreSQL -> SQLite copy on either pass: run once, on PostgreSQL",
)
def test_full_data_set_to_postgresql_and_back(
    tmp_path: Path, server: PostgresServer, shared_data: Path
) -> None:
    source = sqlite_db(tmp_path / "full.db")
    add_full_deployment(source, shared_data, tmp_path)
    expected = all_rows(source)
    sizes = {name: len(rows) for name, rows in expected.items()}
    assert sizes["paper"] == sizes["paper_embedding"] == 80317
    assert (sizes["subscriber"], sizes["delivery"], sizes["upvote"]) == (1000, 1000, 3000)
    middle_url = server.new_database()
    back_url = f"sqlite:///{tmp_path / 'back.db'}"
    for source_url, target_url in ((source.url, middle_url), (middle_url, back_url)):
        code, output = copy(source_url, target_url)
        assert code == 0, output
        assert "counts and samples match" in output
        copied = Database(target_url)
        assert all_rows(copied) == expected
        copied.dispose()
    source.dispose()
    server.drop(middle_url)

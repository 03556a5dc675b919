"""Change probes: "has anything been committed since I last looked?", in microseconds.

A web process checks, on every cached request, whether the data behind its cached pages may
have changed (issue #12). Reading `site_state.content_version` answers exactly but costs a
pooled connection and a query (~90 µs on SQLite, a round trip on PostgreSQL). A probe answers
"maybe" far cheaper, so the version is re-read only when something was committed:

- **SQLite**: `PRAGMA data_version` on one dedicated connection changes whenever any other
  connection, in any process, has committed; in WAL mode it reads the shared-memory index,
  no file I/O (~7 µs).
- **PostgreSQL**: every write transaction of `Database.write()` (and every content-version
  bump) sends `NOTIFY papertide_changes`, delivered at commit to every listener. The probe
  holds one connection that LISTENs and drains, without blocking, what arrived on its socket.

`generation()` returns a number that moves whenever a commit may have happened, or None when
the probe cannot tell (an in-memory database, a lost listener): the caller then reads the
version itself, as it did before probes. It runs on the event loop, the one database call
allowed there (web/offload.py): it never waits, neither on a lock nor on the network.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from typing import Any, Protocol

import sqlalchemy as sa

CHANNEL = "papertide_changes"
NOTIFY = f"NOTIFY {CHANNEL}"


class ChangeProbe(Protocol):
    def generation(self) -> int | None: ...

    def reconnect(self) -> None:
        """Blocking: set up again after generation() returned None (run it off the loop)."""

    def close(self) -> None: ...


class BlindProbe:
    """For databases no other connection can see (SQLite in memory): always "cannot tell"."""

    def generation(self) -> int | None:
        return None

    def reconnect(self) -> None:
        return None

    def close(self) -> None:
        return None


class _ConnectedProbe:
    """What both probes share: one connection of their own, asked without waiting for a lock,
    dropped (and reported as "cannot tell") at its first error."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.conn: Any = None

    def _read(self) -> int:
        """The generation, from the open connection (may raise)."""
        raise NotImplementedError

    def _connect(self) -> Any:
        raise NotImplementedError

    def generation(self) -> int | None:
        if not self.lock.acquire(blocking=False):
            return None  # another thread is asking right now: read the version instead
        try:
            return None if self.conn is None else self._read()
        except Exception:  # a broken connection, a server restart: stop trusting it
            self._drop()
            return None
        finally:
            self.lock.release()

    def reconnect(self) -> None:
        with self.lock:
            if self.conn is None:
                self.conn = self._connect()

    def _drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):  # a broken connection may fail to close
                self.conn.close()
        self.conn = None

    def close(self) -> None:
        with self.lock:
            self._drop()


class SqliteProbe(_ConnectedProbe):
    """`PRAGMA data_version` on a connection of its own (never used for anything else)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.epoch = 0  # data_version counts per connection: a new one starts a new epoch

    def _read(self) -> int:
        row = self.conn.execute("PRAGMA data_version").fetchone()
        return (self.epoch << 32) + int(row[0])

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False)
        conn.execute("PRAGMA data_version").fetchone()
        self.epoch += 1
        return conn


class PostgresProbe(_ConnectedProbe):
    """A LISTEN connection; each notification drained moves the generation."""

    def __init__(self, url: sa.URL) -> None:
        super().__init__()
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.count = 0

    def _read(self) -> int:
        pgconn = self.conn.pgconn
        # libpq's socket is non-blocking: this takes what has arrived, and never waits.
        if not pgconn.consume_input():
            raise OSError(pgconn.get_error_message())
        while pgconn.notifies() is not None:
            self.count += 1
        return self.count

    def _connect(self) -> Any:
        import psycopg

        conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
        conn.execute(f"LISTEN {CHANNEL}")
        self.count += 1  # notifications may have been missed while it was away
        return conn


def probe_for(engine: sa.Engine) -> ChangeProbe:
    """The probe for `engine`'s database (not yet connected: call `reconnect()` off the loop)."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return PostgresProbe(url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return SqliteProbe(url.database)
    return BlindProbe()

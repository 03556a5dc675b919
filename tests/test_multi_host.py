"""Many hosts, one PostgreSQL (issue #11): two `papertide serve` processes with data
directories of their own, as two hosts would have, and two `papertide worker` processes,
all on one database. They must behave as one site: exact vote counts, one message per
subscriber even when a worker is killed mid-send, a rate limit that counts across hosts,
and a newly ingested paper ranked identically on both hosts within a minute.

Runs in the PostgreSQL pass of the suite (PAPERTIDE_TEST_BACKEND=postgresql).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import sqlalchemy as sa
from tests.backends import on_postgresql
from tests.digest.smtp_server import SmtpServer, free_port
from tests.digest.test_send import add_edition, address
from tests.web.accounts_helpers import csrf_token

from papertide.auth import sessions
from papertide.config import Settings
from papertide.db import Database
from papertide.db.schema import delivery, edition, user
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.runner import run_import

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not on_postgresql(), reason="many hosts share one PostgreSQL: the PostgreSQL pass runs it"
    ),
]

FIRST_DAY = "2026-08-20"  # imported before the hosts start
NEW_DAY = "2025-09-08"  # ingested by a worker while they run
PAPER = "2608.16590"  # on FIRST_DAY
NOW = dt.datetime(2026, 11, 27, 7, 0)
SUBSCRIBERS = 300


@dataclass
class Host:
    name: str
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path


def _environment(database_url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERTIDE_")}
    env.update(
        PAPERTIDE_DATABASE_URL=database_url,
        PAPERTIDE_DATA_DIR=str(data_dir),
        PAPERTIDE_LOAD_DEMO="false",
        PAPERTIDE_SECRET_KEY="one secret for every host of the site",
        PAPERTIDE_RATE_LIMIT_VOTE="100/minute",
        PAPERTIDE_EMBEDDING_TIMEOUT_MS="10000",  # a busy test machine must not fall back
        COLUMNS="200",
    )
    env.update({f"PAPERTIDE_{k.upper()}": v for k, v in settings.items()})
    return env


def _papertide(*args: str) -> list[str]:
    return [sys.executable, "-m", "papertide", *args]


@contextmanager
def _hosts(database_url: str, folder: Path, **settings: str) -> Iterator[list[Host]]:
    """Two `papertide serve` processes, each with a data directory of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    hosts = []
    try:
        for n in (1, 2):
            port = free_port()
            log = folder / f"host{n}.log"
            process = subprocess.Popen(
                _papertide("serve", "--port", str(port), "--no-demo"),
                env=_environment(database_url, folder / f"host{n}", **settings),
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
            )
            hosts.append(Host(f"host{n}", f"http://127.0.0.1:{port}", process, log))
        for host in hosts:
            _wait_healthy(host)
        yield hosts
    finally:
        for host in hosts:
            host.process.send_signal(signal.SIGTERM)
        for host in hosts:
            try:
                host.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                host.process.kill()


def _wait_healthy(host: Host, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert host.process.poll() is None, f"{host.name} exited:\n{host.log.read_text()}"
        try:
            if httpx.get(f"{host.base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{host.name} never became healthy:\n{host.log.read_text()}")


def _members(db: Database, count: int, prefix: str) -> list[str]:
    """`count` members with a session each; their session tokens (the cookie)."""
    with db.write() as conn:
        ids = [
            conn.execute(
                user.insert().values(
                    username=f"{prefix}{n}",
                    username_key=f"{prefix}{n}",
                    created_at=NOW - dt.timedelta(days=60),
                )
            ).inserted_primary_key[0]
            for n in range(count)
        ]
    return [sessions.start(db, int(i), dt.timedelta(days=1)) for i in ids]


def _vote(host: Host, cookie: str, paper_id: str, up: bool = True) -> httpx.Response:
    with httpx.Client(base_url=host.base_url, cookies={"papertide_session": cookie}) as client:
        token = csrf_token(client.get("/settings").text)
        return client.post(
            f"/papers/{paper_id}/upvote",
            data={"csrf_token": token, "vote": "1" if up else "0"},
            headers={"accept": "application/json"},
            timeout=60,
        )


def _upvotes(host: Host, paper_id: str) -> int:
    answer = httpx.get(f"{host.base_url}/api/papers/{paper_id}", timeout=30)
    assert answer.status_code == 200, answer.text
    upvotes: int = answer.json()["upvotes"]
    return upvotes


def _search(host: Host, query: str) -> list[str]:
    answer = httpx.get(
        f"{host.base_url}/api/papers/search", params={"q": query, "limit": 20}, timeout=60
    )
    assert answer.status_code == 200, answer.text
    return [item["paper"]["id"] for item in answer.json()]


def test_two_hosts_count_parallel_votes_exactly_and_share_the_rate_limit(
    database_url: str, db: Database, tmp_path: Path, samples: Path
) -> None:
    run_import(db, HfDailySource([samples / f"{FIRST_DAY}.json"]))
    voters = _members(db, 100, "voter")
    with _hosts(database_url, tmp_path / "site") as (one, two):
        before = _upvotes(one, PAPER)
        # 50 members vote on host one and 50 on host two, all at once; the first 20 of each
        # half vote on the other host as well (a vote is a state: it still counts once).
        jobs = [(one if n < 50 else two, cookie) for n, cookie in enumerate(voters)]
        jobs += [(two if n < 50 else one, voters[n]) for n in (*range(20), *range(50, 70))]
        with ThreadPoolExecutor(24) as pool:
            answers = list(pool.map(lambda job: _vote(job[0], job[1], PAPER), jobs))
        assert {a.status_code for a in answers} == {200}, [a.text for a in answers][:3]
        assert _upvotes(one, PAPER) == _upvotes(two, PAPER) == before + 100

    # A limit of 10 votes a minute per member, counted across both hosts: a member who
    # alternates hosts gets 10 votes through, not 10 on each.
    limited = _members(db, 1, "busy")[0]
    with _hosts(database_url, tmp_path / "limited", rate_limit_vote="10/minute") as (one, two):
        codes = [_vote(one if n % 2 else two, limited, PAPER, up=n % 2 == 0).status_code
                 for n in range(16)]  # fmt: skip
    assert codes.count(200) == 10 and codes.count(429) == 6, codes


@contextmanager
def _workers(
    database_url: str, folder: Path, smtp_port: int, names: tuple[str, ...], **settings: str
) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """`papertide worker` processes that run nothing but the digest sending job."""
    folder.mkdir(parents=True, exist_ok=True)
    off = {name: "" for name in ("arxiv_new", "hf_daily", "digest_daily", "digest_weekly")}
    values = {
        **{f"schedule_{name}": value for name, value in off.items()},
        "schedule_github_stars_hours": "0",
        "schedule_embed_new_hours": "0",
        "schedule_keyword_snapshot_hours": "0",
        "schedule_digest_retry_minutes": "0.02",
        "worker_tick_s": "0.5",
        "smtp_host": "127.0.0.1",
        "smtp_port": str(smtp_port),
        # Long enough that a busy machine never times out a message the server took (a
        # retry after such a timeout sends it twice: at least once, by design).
        "smtp_timeout_s": "5",
        "public_url": "https://papers.example.org",
        "mail_from": "Papertide <digest@papers.example.org>",
        "digest_send_threads": "2",
        "digest_batch_size": "5",
        **settings,
    }
    workers: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name in names:
            workers[name] = subprocess.Popen(
                _papertide("worker"),
                env=_environment(database_url, folder / name, **values),
                stdout=(folder / f"{name}.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
        yield workers
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in workers.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


def _edition_status(db: Database, edition_id: int) -> str:
    with db.read() as conn:
        query = sa.select(edition.c.status).where(edition.c.id == edition_id)
        return str(conn.execute(query).scalar_one())


def _wait_done(db: Database, edition_id: int, timeout_s: float, logs: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while _edition_status(db, edition_id) != "done":
        if time.monotonic() > deadline:
            worker_logs = "\n".join(p.read_text() for p in sorted(logs.glob("*.log")))
            raise AssertionError(f"edition {edition_id} not done:\n{worker_logs[-4000:]}")
        time.sleep(0.2)


def _sent_by(log: Path) -> int:
    """The messages a worker says it sent ("digest-retry: 12 sent" lines of its log)."""
    return sum(int(found) for found in re.findall(r"digest-retry: (\d+) sent", log.read_text()))


def _received(smtp: SmtpServer, edition_id: int) -> Counter[str]:
    """Messages of `edition_id` the SMTP server took, per Message-ID."""
    prefix = f"<digest.{edition_id}."
    return Counter({k: v for k, v in smtp.handler.by_message_id().items() if k.startswith(prefix)})


def _claimed(db: Database) -> int:
    with db.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(delivery.c.status == "claimed")
            ).scalar_one()
        )


def test_two_workers_send_an_edition_once_and_survive_a_kill(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    with SmtpServer() as smtp:
        # Both workers at once: each subscriber gets exactly one message, and both sent some.
        first = add_edition(db, ["confirmed"] * SUBSCRIBERS, period="2026-11-27")
        folder = tmp_path / "both"
        with _workers(database_url, folder, smtp.port, ("w1", "w2"), digest_max_per_second="40"):
            _wait_done(db, first, 180, folder)
        assert smtp.handler.by_recipient() == {address(n): 1 for n in range(SUBSCRIBERS)}
        shares = [_sent_by(folder / f"{name}.log") for name in ("w1", "w2")]
        logs = [(folder / f"{name}.log").read_text()[-3000:] for name in ("w1", "w2")]
        assert sum(shares) == SUBSCRIBERS and min(shares) > 0, (shares, logs)

        # One worker SIGKILLed mid-send: the other finishes the edition, nobody is missed,
        # and only the messages in flight at the kill may have gone twice.
        second = add_edition(db, ["confirmed"] * SUBSCRIBERS, period="2026-11-28")
        quick = {"digest_max_per_second": "20"}
        lease = Settings(smtp_timeout_s=5, digest_max_per_second=20).send_worst_case_s
        folder = tmp_path / "kill"
        with _workers(database_url, folder, smtp.port, ("w3",), **quick,
                      digest_claim_lease_s=str(lease)) as doomed:  # fmt: skip
            deadline = time.monotonic() + 120
            while sum(_received(smtp, second).values()) < 60:
                assert time.monotonic() < deadline, (folder / "w3.log").read_text()
                time.sleep(0.01)
            with _workers(database_url, folder, smtp.port, ("w4",), **quick,
                          digest_claim_lease_s=str(lease)):  # fmt: skip
                doomed["w3"].send_signal(signal.SIGKILL)
                doomed["w3"].wait()
                in_flight = _claimed(db)
                _wait_done(db, second, lease + 120, folder)
        received = _received(smtp, second)
        assert len(received) == SUBSCRIBERS  # everyone, once or (in flight at the kill) twice
        assert sum(received.values()) - SUBSCRIBERS <= in_flight
        assert _sent_by(folder / "w4.log") > 0


@contextmanager
def _hugging_face(day_file: Path) -> Iterator[str]:
    """A stand-in for huggingface.co/api on loopback: today's daily papers are `day_file`'s
    (the recorded real answer), every other day has none."""
    today = dt.datetime.now(dt.UTC).date().isoformat()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            day = parse_qs(url.query).get("date", [""])[0]
            wanted = url.path == "/api/daily_papers" and day == today
            body = day_file.read_bytes() if wanted else b"[]"
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


def test_a_paper_a_worker_ingests_is_found_alike_on_both_hosts_within_a_minute(
    database_url: str, db: Database, tmp_path: Path, samples: Path
) -> None:
    run_import(db, HfDailySource([samples / f"{FIRST_DAY}.json"]))
    query = "why language models hallucinate"
    new_paper = "2509.04664"
    with _hosts(database_url, tmp_path / "site") as hosts:
        before = [_search(host, query) for host in hosts]
        assert new_paper not in before[0] and before[0] == before[1]
        with _hugging_face(samples / f"{NEW_DAY}.json") as hf_api, _workers(
            database_url, tmp_path / "worker", free_port(), ("w1",),
            schedule_hf_daily="00:00", schedule_embed_new_hours="1", hf_api_url=hf_api,
        ):  # fmt: skip
            started = time.monotonic()
            while True:
                found = [_search(host, query) for host in hosts]
                if all(new_paper in ranking for ranking in found):
                    break
                log = (tmp_path / "worker" / "w1.log").read_text()
                assert time.monotonic() - started < 60, log
                time.sleep(0.5)
            print(f"on both hosts {time.monotonic() - started:.1f} s after the worker started")
            assert found[0] == found[1]
            assert found[0][0] == new_paper  # the exact title is pinned first
            # Once the worker has embedded it, both hosts still rank alike (the vectors are
            # in the shared database, not in a host's own index).
            deadline = time.monotonic() + 60
            while "embed-new" not in (tmp_path / "worker" / "w1.log").read_text():
                assert time.monotonic() < deadline
                time.sleep(0.5)
            for other in ("hallucination in large language models", "symbolic music reasoning"):
                assert _search(hosts[0], other) == _search(hosts[1], other)

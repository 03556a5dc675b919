"""The OAI-PMH harvester (ingest/arxiv_oai.py) on real arXiv responses, replayed.

The recordings are single pages. Multi-page harvests are built here (issue #3) by splitting
their real <record> elements across pages that end in <resumptionToken> elements, the way
arXiv pages a ListRecords answer; error documents follow the OAI-PMH 2.0 specification.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.conftest import DatabaseFactory
from tests.replay import Replay, response

from papertide.db import Database
from papertide.db.migrate import upgrade
from papertide.db.schema import paper
from papertide.db.state import get_state
from papertide.ingest.arxiv_oai import (
    OaiError,
    OaiFormatError,
    OaiHarvest,
    parse_list_records,
    state_key,
)
from papertide.ingest.http import FetchError, HttpClient, HttpOptions
from papertide.ingest.runner import ImportResult, run_import

# ../shared/data from the repository root, as in tests/conftest.py (for parametrize).
RECORDINGS = (
    Path(__file__).resolve().parents[2].parent / "shared/data/fixtures/arxiv_oai_pmh/hepcrawl"
)
BASE = "https://oaipmh.arxiv.org/oai"
HEP_EX = "functional__arxiv__fixtures__http_server__records__arxiv-physics-hep-ex.xml"
HEP_TH = "functional__arxiv__fixtures__http_server__records__arxiv-physics-hep-th.xml"
SINGLE = "functional__arxiv__fixtures__http_server__records__arxiv-single.xml"
SAMPLES = "unit__responses__arxiv__sample_arxiv_record.xml"
KEY = state_key(BASE, "arXiv", None)
FIRST = {"verb": "ListRecords", "metadataPrefix": "arXiv"}
TOKEN_2, TOKEN_3 = "6960524|4", "6960524|7"  # the shape of arXiv's tokens: "<id>|<cursor>"
ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    "<responseDate>2017-12-14T13:00:41Z</responseDate>\n"
    '<request verb="ListRecords" metadataPrefix="arXiv">https://oaipmh.arxiv.org/oai</request>\n'
    "{body}\n</OAI-PMH>\n"
)
DELETED = (
    '<record><header status="deleted"><identifier>oai:arXiv.org:1706.00001</identifier>'
    "<datestamp>2017-12-14</datestamp><setSpec>physics:hep-ex</setSpec></header></record>"
)


@pytest.fixture(scope="module")
def recordings(shared_data: Path) -> Path:
    return shared_data / "fixtures" / "arxiv_oai_pmh" / "hepcrawl"


@pytest.fixture(scope="module")
def pages(recordings: Path) -> list[str]:
    """Twelve real records over three pages: hep-ex's 3, hep-th's 3, 6 GetRecord samples."""
    found = [_records(recordings / name) for name in (HEP_EX, HEP_TH, SAMPLES)]
    return [
        _page(found[0], TOKEN_2, cursor=0),
        _page(found[1], TOKEN_3, cursor=3),
        _page(found[2][:6], None, cursor=6),
    ]


@pytest.fixture
def other_db(tmp_path: Path, databases: DatabaseFactory) -> Any:
    database = Database(databases.url(tmp_path / "other"))
    upgrade(database)
    yield database
    database.dispose()


def _records(path: Path) -> list[str]:
    return re.findall(r"<record>.*?</record>", path.read_text(encoding="utf-8"), re.S)


def _page(records: list[str], token: str | None, cursor: int, size: int = 12) -> str:
    token_element = (
        f'<resumptionToken cursor="{cursor}" completeListSize="{size}">{token or ""}'
        "</resumptionToken>"
    )
    return ENVELOPE.format(body=f"<ListRecords>{''.join(records)}{token_element}</ListRecords>")


def _error(code: str, message: str) -> str:
    return ENVELOPE.format(body=f'<error code="{code}">{message}</error>')


def _url(params: dict[str, str]) -> str:
    return str(httpx.URL(BASE, params=params))


def _token(token: str) -> str:
    return _url({"verb": "ListRecords", "resumptionToken": token})


def _serve(
    replay: Replay,
    pages: list[str],
    first: dict[str, str] = FIRST,
    second: list[Any] | None = None,
) -> None:
    """The three pages; `second` replaces what page 2's URL answers (served in order)."""
    replay.add(_url(first), 200, pages[0])
    replay.add(_token(TOKEN_2), second or [response(200, pages[1])])
    replay.add(_token(TOKEN_3), 200, pages[2])


def _client(replay: Replay, **options: Any) -> HttpClient:
    return HttpClient(HttpOptions(**options), transport=replay.transport, sleep=replay.sleep)


def _harvest(db: Database, replay: Replay, **kwargs: Any) -> ImportResult:
    with _client(replay, **kwargs.pop("options", {})) as http:
        return run_import(db, OaiHarvest(db, http, base_url=BASE, **kwargs))


def _sent(replay: Replay) -> list[dict[str, str]]:
    return [dict(request.url.params) for request in replay.requests]


def _paper_rows(db: Database) -> list[dict[str, Any]]:
    """The whole paper table, less the wall-clock columns."""
    with db.read() as conn:
        rows = conn.execute(sa.select(paper).order_by(paper.c.seq)).mappings()
        return [
            {k: v for k, v in row.items() if k not in {"created_at", "modified_at"}} for row in rows
        ]


def _state(db: Database) -> Any:
    with db.read() as conn:
        return get_state(conn, KEY)


def test_a_real_list_records_page_parses_into_exact_fields(recordings: Path) -> None:
    page = parse_list_records((recordings / HEP_EX).read_bytes())
    assert [r.arxiv_id for r in page.records] == ["1706.05371", "1706.09418", "1707.00874"]
    assert (page.token, page.error, page.deleted, page.problems) == (None, None, [], [])
    assert page.datestamp == "2017-12-14"
    rpv = page.records[1]
    assert rpv.title == "R-Parity Violation at the LHC"
    assert rpv.authors == [
        "Daniel Dercks",
        "Herbi Dreiner",
        "Manuel E. Krauss",
        "Toby Opferkuch",
        "Annika Reinert",
    ]
    assert rpv.categories == ["hep-ph", "hep-ex"]
    assert rpv.comments == (
        "43 pages, 13 tables, 17 figures; updated Figs. 11-17 and Tab. 12 including NLO "
        "corrections; version accepted for publication in EPJC"
    )
    assert rpv.journal_ref == "Eur. Phys. J. C (2017) 77:856"
    assert rpv.doi == "10.1140/epjc/s10052-017-5414-4"
    assert rpv.published_at == dt.datetime(2017, 6, 28)
    assert rpv.updated_at == dt.datetime(2017, 11, 26)
    assert rpv.version is None  # the arXiv format does not say
    assert rpv.abstract is not None
    assert rpv.abstract.startswith("We investigate the phenomenology of the MSSM extended")
    assert rpv.abstract.endswith("lower mass bounds on all relevant supersymmetric particles.")
    assert page.licenses["1706.09418"] == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"


def test_the_other_real_page_and_a_get_record_response(recordings: Path) -> None:
    hep_th = parse_list_records((recordings / HEP_TH).read_bytes())
    toolbox = hep_th.records[0]
    assert toolbox.arxiv_id == "1412.8323"
    assert toolbox.authors == ["Philipp A Hoehn"]
    assert toolbox.categories == [
        "quant-ph",
        "gr-qc",
        "hep-th",
        "math-ph",
        "math.MP",
        "physics.hist-ph",
    ]
    assert toolbox.title == (
        "Toolbox for reconstructing quantum theory from rules on information acquisition"
    )
    assert hep_th.licenses["1412.8323"] == "http://creativecommons.org/licenses/by/4.0/"
    assert hep_th.records[2].doi == "10.1002/andp.201700188"
    assert hep_th.records[2].comments is None
    single = parse_list_records((recordings / SINGLE).read_bytes())
    assert [r.arxiv_id for r in single.records] == ["1401.2122"]
    assert single.datestamp == "2018-01-25"


def test_a_record_whose_metadata_sits_in_the_oai_namespace_still_parses(
    recordings: Path,
) -> None:
    # This real response omits the arXiv namespace on <arXiv>: it inherits OAI-PMH's.
    page = parse_list_records((recordings / SAMPLES).read_bytes())
    coherence = page.records[0]
    assert coherence.arxiv_id == "1601.03238"
    assert coherence.authors == [
        "Planck Collaboration",
        "Jieci Wang",
        "Zehua Tian",
        "Jiliang Jing",
        "Heng Fan",
    ]
    assert (
        coherence.title == "Irreversible degradation of quantum coherence under relativistic motion"
    )
    assert coherence.published_at == coherence.updated_at == dt.datetime(2016, 1, 13)
    assert coherence.doi == "10.1103/PhysRevD.93.016005"
    assert len(page.records) == 12


@pytest.mark.parametrize("name", sorted(path.name for path in RECORDINGS.glob("*.xml")))
def test_every_recording_parses_whole(recordings: Path, name: str) -> None:
    text = (recordings / name).read_text(encoding="utf-8")
    page = parse_list_records(text, name)
    identifiers = re.findall(r"<identifier>oai:arXiv.org:([^<]+)</identifier>", text)
    assert [r.arxiv_id for r in page.records] == identifiers
    assert page.problems == []
    assert all(r.title and r.abstract and r.authors and r.categories for r in page.records)
    assert all(r.published_at is not None for r in page.records)


def test_arxiv_raw_gives_the_latest_version_and_the_v1_date() -> None:
    # The layout of arXivRaw.xsd around a real record (1706.09418); the recordings hold no
    # arXivRaw response, so the clock times and sizes are made up.
    raw = """<record><header><identifier>oai:arXiv.org:1706.09418</identifier>
    <datestamp>2017-12-14</datestamp></header><metadata>
    <arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/"><id>1706.09418</id>
    <submitter>Toby Opferkuch</submitter>
    <version version="v2"><date>Sun, 26 Nov 2017 10:11:12 GMT</date><size>2101kb</size></version>
    <version version="v1"><date>Wed, 28 Jun 2017 18:00:00 +0200</date><size>2000kb</size></version>
    <title>R-Parity Violation at the LHC</title>
    <authors>Daniel Dercks, Herbi Dreiner, Manuel E. Krauss, Toby Opferkuch and Annika
      Reinert</authors>
    <categories>hep-ph hep-ex</categories>
    <journal-ref>Eur. Phys. J. C (2017) 77:856</journal-ref>
    <license>http://arxiv.org/licenses/nonexclusive-distrib/1.0/</license>
    <abstract>  We investigate the phenomenology.</abstract></arXivRaw></metadata></record>"""
    page = parse_list_records(_page([raw], None, cursor=0, size=1))
    record = page.records[0]
    assert (record.arxiv_id, record.version) == ("1706.09418", 2)
    assert record.published_at == dt.datetime(2017, 6, 28, 16, 0)  # to UTC
    assert record.updated_at == dt.datetime(2017, 11, 26, 10, 11, 12)
    assert record.authors == [
        "Daniel Dercks",
        "Herbi Dreiner",
        "Manuel E. Krauss",
        "Toby Opferkuch",
        "Annika Reinert",
    ]
    assert record.journal_ref == "Eur. Phys. J. C (2017) 77:856"
    assert record.abstract == "We investigate the phenomenology."


def test_unreadable_records_are_problems_and_the_rest_is_kept(pages: list[str]) -> None:
    broken = pages[0].replace("<id>1706.05371</id>", "<id>not-an-id</id>", 1)
    broken = broken.replace("<title>R-Parity Violation at the LHC</title>", "", 1)
    page = parse_list_records(broken, "page-1")
    assert [r.arxiv_id for r in page.records] == ["1707.00874"]
    assert [p.where for p in page.problems] == ["page-1 record 1", "page-1 record 2"]
    assert "'not-an-id' is not an arXiv id" in page.problems[0].message
    assert page.problems[1].message == "1706.09418 has no title"


def test_tokens_and_oai_errors_are_read(pages: list[str]) -> None:
    first = parse_list_records(pages[0])
    assert (first.token, first.cursor, first.complete_list_size) == (TOKEN_2, 0, 12)
    last = parse_list_records(pages[2])
    assert (last.token, last.cursor) == (None, 6)
    error = parse_list_records(_error("badArgument", "Illegal argument 'foo'"))
    assert error.error == ("badArgument", "Illegal argument 'foo'")
    assert error.records == []


def test_truncated_xml_and_doctypes_are_refused_naming_the_url(pages: list[str]) -> None:
    with pytest.raises(OaiFormatError, match=r"^https://x/oai\?p=1: not well-formed XML"):
        parse_list_records(pages[0][: len(pages[0]) // 2], "https://x/oai?p=1")
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE OAI-PMH [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><OAI-PMH>&b;</OAI-PMH>'
    )
    with pytest.raises(OaiFormatError, match=r"^u: a DOCTYPE \('OAI-PMH'\) is not allowed"):
        parse_list_records(bomb, "u")
    with pytest.raises(OaiFormatError, match="not an OAI-PMH response"):
        parse_list_records("<html><body>Service unavailable</body></html>", "u")


def test_a_three_page_harvest_follows_the_tokens(db: Database, pages: list[str]) -> None:
    replay = Replay()
    _serve(replay, pages)
    result = _harvest(db, replay)
    assert _sent(replay) == [
        FIRST,
        {"verb": "ListRecords", "resumptionToken": TOKEN_2},
        {"verb": "ListRecords", "resumptionToken": TOKEN_3},
    ]
    assert (result.counts.papers_new, result.report.records_read) == (12, 12)
    assert result.report.problems == []
    assert len(_paper_rows(db)) == 12
    assert _state(db) == {
        "token": None,
        "from": "2017-12-14",
        "until": None,
        "last_datestamp_seen": "2017-12-14",
    }


def test_a_harvest_stopped_between_pages_resumes_to_the_same_rows(
    db: Database, other_db: Database, pages: list[str]
) -> None:
    whole = Replay()
    _serve(whole, pages)
    _harvest(other_db, whole)

    replay = Replay()
    _serve(replay, pages)
    stopped = _harvest(db, replay, max_pages=1)
    assert stopped.counts.papers_new == 3
    assert stopped.report.notes == ["stopped at the page limit (1); the resumption token is stored"]
    assert _state(db) == {
        "token": TOKEN_2,
        "from": None,
        "until": None,
        "last_datestamp_seen": "2017-12-14",
    }
    resumed = _harvest(db, replay)
    assert resumed.counts.papers_new == 9
    assert resumed.report.notes == ["resuming the harvest from the start"]
    assert _sent(replay)[1:] == [
        {"verb": "ListRecords", "resumptionToken": TOKEN_2},
        {"verb": "ListRecords", "resumptionToken": TOKEN_3},
    ]
    assert _paper_rows(db) == _paper_rows(other_db)
    assert _state(db) == _state(other_db)


def test_a_harvest_killed_by_a_failure_on_page_two_resumes_to_the_same_rows(
    db: Database, other_db: Database, pages: list[str]
) -> None:
    whole = Replay()
    _serve(whole, pages, {**FIRST, "from": "2015-01-01"})
    _harvest(other_db, whole, from_date=dt.date(2015, 1, 1))

    replay = Replay()
    reset = httpx.ConnectError("connection reset")
    _serve(replay, pages, {**FIRST, "from": "2015-01-01"}, [reset, response(200, pages[1])])
    with pytest.raises(FetchError, match="ConnectError"):
        _harvest(db, replay, from_date=dt.date(2015, 1, 1), options={"retries": 0})
    assert len(_paper_rows(db)) == 3
    assert _state(db)["token"] == TOKEN_2
    resumed = _harvest(db, replay)  # no from_date: the stored harvest goes on
    assert resumed.counts.papers_new == 9
    assert resumed.report.notes == ["resuming the harvest from 2015-01-01"]
    assert _paper_rows(db) == _paper_rows(other_db)


def test_the_next_run_is_incremental_and_changes_nothing(
    db: Database, pages: list[str], recordings: Path
) -> None:
    replay = Replay()
    _serve(replay, pages)
    _harvest(db, replay)
    before = _paper_rows(db)
    # The real hep-ex recording answered exactly this request: from=2017-12-14.
    again = {**FIRST, "from": "2017-12-14"}
    replay.add(_url(again), 200, (recordings / HEP_EX).read_text(encoding="utf-8"))
    result = _harvest(db, replay)
    assert _sent(replay)[-1] == again
    assert (result.counts.papers_new, result.counts.papers_unchanged) == (0, 3)
    assert not result.counts.changed
    assert _paper_rows(db) == before
    assert _state(db)["from"] == "2017-12-14"


def test_503_with_retry_after_is_waited_out(db: Database, pages: list[str]) -> None:
    replay = Replay()
    busy = response(503, "Retry after 30 seconds", {"Retry-After": "30"})
    _serve(replay, pages, second=[busy, response(200, pages[1])])
    result = _harvest(db, replay)
    assert replay.slept == [30.0]
    assert [p.get("resumptionToken") for p in _sent(replay)] == [None, TOKEN_2, TOKEN_2, TOKEN_3]
    assert result.counts.papers_new == 12


def test_an_expired_token_restarts_the_harvest_from_its_from(
    db: Database, pages: list[str]
) -> None:
    replay = Replay()
    first = {**FIRST, "from": "2017-12-01"}
    expired = response(200, _error("badResumptionToken", "The value of the token is invalid"))
    _serve(replay, pages, first, [expired, response(200, pages[1])])
    _harvest(db, replay, from_date=dt.date(2017, 12, 1), max_pages=1)
    result = _harvest(db, replay)  # the stored token has expired meanwhile
    assert result.report.notes[-1].startswith("resumption token rejected (")
    assert "badResumptionToken" in result.report.notes[-1]
    assert result.report.notes[-1].endswith("restarting the harvest from 2017-12-01")
    assert _sent(replay) == [
        first,
        {"verb": "ListRecords", "resumptionToken": TOKEN_2},
        first,
        {"verb": "ListRecords", "resumptionToken": TOKEN_2},
        {"verb": "ListRecords", "resumptionToken": TOKEN_3},
    ]
    assert (result.counts.papers_new, result.counts.papers_unchanged) == (9, 3)
    assert len(_paper_rows(db)) == 12


def test_no_records_match_is_an_empty_success(db: Database) -> None:
    replay = Replay()
    request = {**FIRST, "set": "cs", "from": "2030-01-01"}
    replay.add(_url(request), 200, _error("noRecordsMatch", "No records match the request"))
    with _client(replay) as http:
        source = OaiHarvest(db, http, base_url=BASE, set_spec="cs", from_date=dt.date(2030, 1, 1))
        result = run_import(db, source)
    assert (result.counts.papers_new, result.report.problems) == (0, [])
    assert _paper_rows(db) == []
    with db.read() as conn:
        stored = get_state(conn, "arxiv-oai|https://oaipmh.arxiv.org/oai|arXiv|cs")
    assert stored["from"] == "2030-01-01" and stored["token"] is None


def test_other_oai_errors_raise_with_their_code_and_store_nothing(db: Database) -> None:
    replay = Replay()
    replay.add(_url({**FIRST, "until": "2017-01-01"}), 400, _error("badArgument", "bad until"))
    with pytest.raises(OaiError, match="OAI-PMH error badArgument: bad until") as info:
        _harvest(db, replay, until=dt.date(2017, 1, 1))
    assert info.value.code == "badArgument"
    assert _state(db) is None


def test_an_http_error_page_is_a_fetch_error(db: Database) -> None:
    replay = Replay()
    replay.add(_url(FIRST), 400, "<html><body>Bad Request</body></html>")
    with pytest.raises(FetchError, match="HTTP 400 Bad Request") as info:
        _harvest(db, replay)
    assert info.value.status_code == 400
    assert _state(db) is None


def test_deleted_records_are_reported_not_imported(
    db: Database, pages: list[str], recordings: Path
) -> None:
    records = _records(recordings / HEP_EX)
    replay = Replay()
    replay.add(_url(FIRST), 200, _page([*records[:2], DELETED, records[2]], None, cursor=0))
    result = _harvest(db, replay)
    assert result.counts.papers_new == 3
    assert result.report.notes == ["1 deleted by arXiv, not imported: 1706.00001"]
    assert "1706.00001" not in {row["id"] for row in _paper_rows(db)}


def test_a_truncated_page_writes_nothing_of_itself(db: Database, pages: list[str]) -> None:
    replay = Replay()
    cut = pages[1][: pages[1].index("<record>", 600) + 200]  # mid-way through record 2
    _serve(replay, pages, second=[response(200, cut), response(200, pages[1])])
    with pytest.raises(OaiFormatError, match=r"resumptionToken=6960524%7C4: not well-formed"):
        _harvest(db, replay)
    assert [row["id"] for row in _paper_rows(db)] == ["1706.05371", "1706.09418", "1707.00874"]
    assert _state(db)["token"] == TOKEN_2
    assert _harvest(db, replay).counts.papers_new == 9


def test_an_explicit_other_range_drops_a_stored_token(db: Database, pages: list[str]) -> None:
    replay = Replay()
    _serve(replay, pages)
    _harvest(db, replay, max_pages=1)
    replay.add(_url({**FIRST, "from": "2017-12-14"}), 200, _error("noRecordsMatch", "none"))
    result = _harvest(db, replay, from_date=dt.date(2017, 12, 14))
    assert result.report.notes == [
        "a stored resumption token was dropped: this run asks for another range"
    ]
    assert _state(db) == {
        "token": None,
        "from": "2017-12-14",
        "until": None,
        "last_datestamp_seen": "2017-12-14",
    }

"""The arXiv query API client on recorded 2016 and 2026 responses, replayed through httpx."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
import pytest
from tests.replay import Replay, response

from papertide.db import Database, queries
from papertide.ingest.arxiv_api import (
    API_URL,
    ApiError,
    ArxivApi,
    ArxivFeedError,
    ArxivLookup,
    parse_feed,
)
from papertide.ingest.http import HttpClient, HttpOptions
from papertide.ingest.runner import run_import

QUERY = {"sortBy": "relevance", "sortOrder": "descending", "start": "0", "max_results": "100"}


@pytest.fixture(scope="module")
def atom(shared_data: Path) -> Path:
    return shared_data / "fixtures" / "arxiv_api_atom"


@pytest.fixture(scope="module")
def recorded(atom: Path) -> Path:
    return atom / "arxiv.py" / "recorded_2026"


def _body(path: Path) -> str:
    text: str = json.loads(path.read_text(encoding="utf-8"))["body"]
    return text


def _one(recorded: Path, prefix: str) -> Path:
    (path,) = recorded.glob(f"{prefix}_*.json")
    return path


def _lookup_url(id_list: str) -> str:
    return str(httpx.URL(API_URL, params={"search_query": "", "id_list": id_list, **QUERY}))


def _http(replay: Replay, **options: object) -> HttpClient:
    return HttpClient(HttpOptions(**options), transport=replay.transport, sleep=replay.sleep)  # type: ignore[arg-type]


def test_legacy_2016_entry_with_version_doi_and_journal_ref(atom: Path) -> None:
    page = parse_feed((atom / "arxiv.py" / "legacy_xml" / "id_list=1111.2011v2.xml").read_bytes())
    assert (page.total_results, page.start_index, page.items_per_page) == (1, 0, 10)
    assert page.errors == []
    (paper,) = page.papers
    assert (paper.arxiv_id, paper.version) == ("1111.2011", 2)
    assert paper.title == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert paper.abstract is not None
    assert paper.abstract.startswith("Theoretical description of anisotropic systems, such as")
    assert paper.abstract.endswith(
        "a single extra dimension to the theory describing a single node."
    )
    assert "\n" not in paper.abstract
    assert paper.authors == ["James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"]
    assert paper.categories == ["cond-mat.str-el", "cond-mat.stat-mech"]
    assert paper.published_at == dt.datetime(2011, 11, 8, 18, 48, 36)
    assert paper.updated_at == dt.datetime(2012, 4, 2, 12, 38, 54)
    assert paper.comments == "8 pages, 3 figures. Published version"
    assert paper.doi == "10.1103/PhysRevB.85.115117"
    assert paper.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert paper.withdrawn is False


def test_legacy_search_pages(atom: Path) -> None:
    legacy = atom / "arxiv.py" / "legacy_xml"
    page = parse_feed((legacy / "search_query=au:del_maestro.xml").read_bytes())
    assert len(page.papers) == 10
    assert all(p.version and p.published_at and p.title for p in page.papers)
    sample = parse_feed(
        (atom / "BalconyJH-aioarxiv" / "sample_search_all_electron_2024-12.xml").read_bytes()
    )
    assert (sample.total_results, sample.items_per_page) == (218712, 1)
    (paper,) = sample.papers
    assert (paper.arxiv_id, paper.version) == ("cond-mat/0102536", 1)
    assert paper.comments == (
        "11 pages, 6 figures, 3 tables, LaTeX209, submitted to The Journal of Chemical Physics"
    )
    assert paper.authors is not None and paper.authors[1] == "M. Nolan"


def test_2026_entries(recorded: Path) -> None:
    (old_style,) = parse_feed(_body(_one(recorded, "id_quant-ph_0201082v1"))).papers
    assert (old_style.arxiv_id, old_style.version) == ("quant-ph/0201082", 1)
    assert old_style.categories == ["quant-ph", "cs.PL"]
    assert old_style.comments == "32 pages"
    assert old_style.doi is None
    (journal,) = parse_feed(_body(_one(recorded, "id_astro-ph_0601001"))).papers
    assert journal.journal_ref == "ActaAstron.56:1-50,2006"
    # Affiliations are not part of the names.
    assert journal.authors == ["Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski"]
    page = parse_feed(_body(_one(recorded, "id_0808.05394_1707.08567")))
    assert page.total_results == 1  # 0808.05394 does not exist: silently absent
    (proceedings,) = page.papers
    assert proceedings.arxiv_id == "1707.08567"
    assert proceedings.authors is not None and len(proceedings.authors) == 34
    assert proceedings.authors[-1] == "Hirosuke Yamamoto"


def test_primary_category_comes_first_and_withdrawn_comment(recorded: Path) -> None:
    body = _body(_one(recorded, "id_quant-ph_0201082v1"))
    body = body.replace('primary_category term="quant-ph"', 'primary_category term="cs.PL"')
    body = body.replace("32 pages", "This paper has been withdrawn by the author")
    (paper,) = parse_feed(body).papers
    assert paper.categories == ["cs.PL", "quant-ph"]
    assert paper.withdrawn is True


def test_error_entry_is_an_api_error_not_a_paper(recorded: Path) -> None:
    page = parse_feed(_body(_one(recorded, "id_abc")))
    assert page.papers == []
    assert page.errors == [
        ApiError(
            "https://arxiv.org/api/errors#incorrect_id_format_for_abc",
            "incorrect id format for abc",
        )
    ]


def test_by_ids_surfaces_the_http_400_error_entry(recorded: Path) -> None:
    replay = Replay()
    replay.add_recording(_one(recorded, "id_abc"))
    with _http(replay) as http:
        page = ArxivApi(http).by_ids(["abc"])
    assert page.papers == []
    assert [e.message for e in page.errors] == ["incorrect id format for abc"]
    assert len(replay.requests) == 1  # a 400 is an answer, not retried


def test_by_ids_builds_the_recorded_request(recorded: Path) -> None:
    replay = Replay()
    replay.add_recording(_one(recorded, "id_0808.05394_1707.08567"))
    with _http(replay, user_agent="Papertide-test (mailto:ops@example.org)") as http:
        page = ArxivApi(http).by_ids(["0808.05394", "1707.08567"])
    assert [p.arxiv_id for p in page.papers] == ["1707.08567"]
    assert replay.requests[0].headers["user-agent"] == "Papertide-test (mailto:ops@example.org)"


def test_by_ids_asks_for_100_ids_at_a_time(recorded: Path) -> None:
    ids = [f"2401.{n:05d}" for n in range(1, 151)]
    empty = _body(_one(recorded, "id_0000.0000"))
    replay = Replay()
    replay.add(_lookup_url(",".join(ids[:100])), 200, empty)
    replay.add(_lookup_url(",".join(ids[100:])), 200, empty)
    with _http(replay) as http:
        page = ArxivApi(http).by_ids(ids)
    assert page.papers == [] and page.errors == []
    sent = [r.url.params["id_list"].split(",") for r in replay.requests]
    assert sent == [ids[:100], ids[100:]]


def test_search_all_pages_until_the_limit_three_seconds_apart(recorded: Path) -> None:
    replay = Replay()
    for start in range(0, 60, 10):
        replay.add_recording(_one(recorded, f"q_testing_s{start}_m10"))
    options = HttpOptions(min_interval_s={"export.arxiv.org": 3.0})
    # A clock that never moves: every request after the first must wait the full 3 s.
    with HttpClient(
        options, transport=replay.transport, clock=lambda: 1000.0, sleep=replay.sleep
    ) as http:
        papers = list(ArxivApi(http).search_all("testing", page_size=10, limit=60))
    assert [r.url.params["start"] for r in replay.requests] == ["0", "10", "20", "30", "40", "50"]
    assert {r.url.params["max_results"] for r in replay.requests} == {"10"}
    assert replay.slept == [3.0] * 5
    assert len(papers) == 60
    assert len({p.arxiv_id for p in papers}) == 60
    assert (papers[0].arxiv_id, papers[0].version) == ("2202.12139", 1)
    assert papers[0].doi == "10.1109/ICSTW55395.2022.00035"
    assert (papers[-1].arxiv_id, papers[-1].version) == ("2101.09077", 1)


def test_search_all_stops_at_the_limit_inside_a_page(recorded: Path) -> None:
    replay = Replay()
    replay.add_recording(_one(recorded, "q_testing_s0_m10"))
    replay.add_recording(_one(recorded, "q_testing_s10_m10"))
    with _http(replay) as http:
        papers = list(ArxivApi(http).search_all("testing", page_size=10, limit=15))
    assert len(papers) == 15
    assert len(replay.requests) == 2
    assert papers[10].arxiv_id == "2403.16981"


def test_search_all_stops_at_total_results(recorded: Path) -> None:
    replay = Replay()
    single = _body(_one(recorded, "id_2104.12255v1"))  # totalResults 1
    search_url = str(httpx.URL(API_URL, params={"search_query": "ti:zero", "id_list": "", **QUERY}))
    replay.add(search_url, 200, single)
    with _http(replay) as http:
        papers = list(ArxivApi(http).search_all("ti:zero"))
    assert [p.arxiv_id for p in papers] == ["2104.12255"]
    assert papers[0].title == "0"


def test_timeout_is_retried_then_succeeds(recorded: Path) -> None:
    path = _one(recorded, "id_1605.08386")
    replay = Replay()
    replay.add(
        json.loads(path.read_text(encoding="utf-8"))["url"],
        [httpx.ReadTimeout("slow"), response(200, _body(path))],
    )
    with _http(replay, backoff_s=2.0) as http:
        page = ArxivApi(http).by_ids(["1605.08386"])
    assert [p.title for p in page.papers] == ["Heat-bath random walks with Markov bases"]
    assert page.papers[0].categories == ["math.CO", "math.ST"]
    assert replay.slept == [2.0]
    assert len(replay.requests) == 2


def test_truncated_body_is_a_feed_error_naming_the_url(recorded: Path) -> None:
    path = _one(recorded, "id_1605.08386")
    body = _body(path)
    replay = Replay()
    url = json.loads(path.read_text(encoding="utf-8"))["url"]
    replay.add(url, 200, body[: len(body) // 2])
    with _http(replay) as http, pytest.raises(ArxivFeedError) as info:
        ArxivApi(http).by_ids(["1605.08386"])
    assert "export.arxiv.org/api/query" in str(info.value)
    assert "id_list=1605.08386" in info.value.url
    assert "not well-formed XML (truncated?)" in str(info.value)


def test_doctype_is_refused() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>&b;</title></feed>'
    )
    with pytest.raises(ArxivFeedError, match="DOCTYPE"):
        parse_feed(bomb, "https://export.arxiv.org/api/query?x")


def test_run_lookup_upserts_and_is_idempotent(db: Database, recorded: Path) -> None:
    replay = Replay()
    replay.add_recording(_one(recorded, "id_quant-ph_0201082v1"))
    replay.add_recording(_one(recorded, "id_1605.08386"))
    with _http(replay) as http:
        first = run_import(db, ArxivLookup(http, ["quant-ph/0201082v1"]))
        second = run_import(db, ArxivLookup(http, ["https://arxiv.org/abs/1605.08386"]))
        again = run_import(db, ArxivLookup(http, ["quant-ph/0201082v1"]))
    assert (first.counts.papers_new, second.counts.papers_new) == (1, 1)
    assert first.report.problems == second.report.problems == []
    assert first.report.records_read == 1
    assert first.summary().startswith("arxiv-api: 1 new, 0 updated, 0 unchanged papers")
    assert (again.counts.papers_new, again.counts.papers_updated) == (0, 0)
    assert again.counts.papers_unchanged == 1
    assert not again.counts.changed
    with db.read() as conn:
        detail = queries.get_paper(conn, "quant-ph/0201082")
    assert detail is not None
    assert detail.version == 1
    assert detail.categories == ["quant-ph", "cs.PL"]
    assert detail.published_at == dt.datetime(2002, 1, 18, 15, 8, 5)


def test_run_lookup_reports_bad_missing_and_refused_ids(db: Database, recorded: Path) -> None:
    replay = Replay()
    replay.add_recording(_one(recorded, "id_0808.05394_s0"))
    # arXiv's error answer (HTTP 400 + error entry), served for an id it refuses.
    replay.add(_lookup_url("2401.99999"), 400, _body(_one(recorded, "id_abc")))
    with _http(replay) as http:
        result = run_import(db, ArxivLookup(http, ["abc", "0808.05394"]))
        refused = run_import(db, ArxivLookup(http, ["2401.99999"]))
    assert [(p.where, p.message) for p in result.report.problems] == [
        (
            "abc",
            "'abc' is not an arXiv id (expected e.g. 2401.01234, 2401.01234v2 or hep-th/9901001)",
        ),
        ("0808.05394", "not found on arXiv"),
    ]
    assert len(replay.requests) == 2  # "abc" was never sent
    assert [(p.where, p.message) for p in refused.report.problems] == [
        ("https://arxiv.org/api/errors#incorrect_id_format_for_abc", "incorrect id format for abc")
    ]
    assert not result.counts.changed and not refused.counts.changed


def test_an_entry_with_an_unreadable_date_is_an_error_not_a_paper_without_one(
    recorded: Path,
) -> None:
    """Issue #10: a date that does not parse is never stored as NULL."""
    body = _body(_one(recorded, "id_quant-ph_0201082v1"))
    start = body.index("<published>") + len("<published>")
    body = body[:start] + "sometime in 2002" + body[body.index("</published>") :]
    page = parse_feed(body)
    assert page.papers == []
    assert [error.message for error in page.errors] == [
        "entry cannot be imported: <published>: not an ISO 8601 date-time: 'sometime in 2002'"
    ]

"""Fixtures for page tests: a fresh app over a throwaway SQLite database holding real data."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.conftest import SHARED_DATA, DatabaseFactory

from papertide.config import Settings
from papertide.ingest.arxiv_jsonl import arxiv_jsonl_source
from papertide.ingest.hf_daily import HfDailySource
from papertide.ingest.runner import run_import
from papertide.web.app import create_app

DATA = SHARED_DATA  # required, as tests/conftest.py says: a test without it fails
SAMPLES = DATA / "hf_daily_papers" / "samples"
SAMPLE_DAY = "2026-08-20"  # a Thursday, ISO week 2026-W34
OTHER_SAMPLE_DAY = "2025-09-08"
# A paper HF featured on 2025-04-01 whose arXiv abstract has inline LaTeX ($\lambda=1$).
MATH_DAY, MATH_PAPER = "2025-04-01", "2503.24290"


def sample_items(day: str) -> list[dict[str, object]]:
    """The raw HF items of a sample day, as a list."""
    items = json.loads((SAMPLES / f"{day}.json").read_text(encoding="utf-8"))
    assert isinstance(items, list)
    return items


def make_app(tmp_path: Path, *paths: Path, database_url: str | None = None) -> FastAPI:
    """A fresh app on an empty database in `tmp_path` (or at `database_url`) with the given
    HF day files imported."""
    settings = Settings(data_dir=tmp_path / "data", load_demo=False, database_url=database_url)
    app = create_app(settings)
    if paths:
        run_import(app.state.db, HfDailySource(list(paths)))
    return app


def _lines_where(path: Path, key: str, value: str) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [line for line in lines if json.loads(line)[key] == value]


def write_math_day(folder: Path) -> tuple[Path, Path]:
    """Real rows for MATH_DAY: the arXiv listing of MATH_PAPER and HF's entries of that day.

    The arXiv listing keeps the LaTeX that HF strips, so it is imported first.
    """
    listings = DATA / "arxiv_listings" / "arxiv_listings_2025-04.jsonl.gz"
    hf_rows = (
        DATA / "hf_daily_papers" / "normalized" / "hf_daily_papers_normalized_2025-H1.jsonl.gz"
    )
    listing_path, hf_path = folder / "listing.jsonl", folder / "hf_day.jsonl"
    listing_path.write_text("".join(_lines_where(listings, "id", MATH_PAPER)), encoding="utf-8")
    hf_path.write_text("".join(_lines_where(hf_rows, "daily_date", MATH_DAY)), encoding="utf-8")
    return listing_path, hf_path


def make_math_app(tmp_path: Path) -> FastAPI:
    """An app whose only day is MATH_DAY, with MATH_PAPER's LaTeX abstract."""
    listing_path, hf_path = write_math_day(tmp_path)
    app = make_app(tmp_path)
    run_import(app.state.db, arxiv_jsonl_source([listing_path]))
    run_import(app.state.db, HfDailySource([hf_path]))
    return app


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """A client for an app holding the two JSON sample days."""
    app = make_app(tmp_path, SAMPLES / f"{SAMPLE_DAY}.json", SAMPLES / f"{OTHER_SAMPLE_DAY}.json")
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def empty_client(tmp_path: Path, databases: DatabaseFactory) -> Iterator[TestClient]:
    """A client for an app with an empty database of its own (not `client`'s)."""
    url = databases.url(tmp_path / "empty" / "data")
    with TestClient(make_app(tmp_path / "empty", database_url=url)) as test_client:
        yield test_client


class _CardParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "li" and "card" in (values.get("class") or "").split():
            self.ids.append(values.get("data-arxiv-id") or "")


def card_ids(html: str) -> list[str]:
    """The arXiv ids of the paper cards on a page, in page order."""
    parser = _CardParser()
    parser.feed(html)
    return parser.ids


@pytest.fixture(name="card_ids")
def card_ids_fixture() -> Callable[[str], list[str]]:
    """The `card_ids(html)` helper, as a fixture so test modules import nothing from here."""
    return card_ids


@pytest.fixture
def sample_day() -> tuple[str, list[dict[str, object]]]:
    """The date and raw HF items of the main sample day."""
    return SAMPLE_DAY, sample_items(SAMPLE_DAY)


@pytest.fixture
def math_client(tmp_path: Path) -> Iterator[TestClient]:
    """A client for an app holding MATH_DAY, with MATH_PAPER's LaTeX abstract."""
    with TestClient(make_math_app(tmp_path)) as test_client:
        yield test_client


@pytest.fixture
def demo_client(tmp_path: Path) -> Iterator[TestClient]:
    """A client for an app seeded with the built-in demo (600 papers over 30 days)."""
    app = create_app(Settings(data_dir=tmp_path / "demo", load_demo=True))
    with TestClient(app) as test_client:
        yield test_client

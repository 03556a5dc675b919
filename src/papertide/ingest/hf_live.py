"""Hugging Face daily papers, live: `GET {api}/daily_papers?date=YYYY-MM-DD` for one day.

The answer has the shape of a day file, so it is decoded and merged exactly as the file
importer does (ingest/hf_daily.py): a re-run of the same day changes nothing.
"""

from __future__ import annotations

import datetime as dt

from papertide.db import writes
from papertide.db.engine import Database
from papertide.ingest.base import Batch
from papertide.ingest.hf_daily import decode_day, parse_items
from papertide.ingest.http import HttpClient
from papertide.ingest.runner import ImportResult

SOURCE = "hf-daily-api"
DEFAULT_API_URL = "https://huggingface.co/api"
# HF answers 50 items unless asked for more; 100 is the most one request gives.
PAGE_SIZE = 100


def run_hf_day(
    db: Database, http: HttpClient, day: dt.date, *, api_url: str = DEFAULT_API_URL
) -> ImportResult:
    """Mirror Hugging Face's featured papers of `day`; raises FetchError if HF cannot be read."""
    url = f"{api_url.rstrip('/')}/daily_papers"
    response = http.get(url, params={"date": day.isoformat(), "limit": PAGE_SIZE})
    result = ImportResult(source=SOURCE)
    report = result.report
    where = f"{url}?date={day.isoformat()}"
    items = decode_day(response.content, where, report)
    batch = Batch()
    for record, entry, snapshot in parse_items(items, day, report):
        batch.papers.append(record)
        batch.entries.append(entry)
        if snapshot:
            batch.stars.append(snapshot)
        report.records_read += 1
    if len(batch):
        with db.write() as conn:
            result.counts.add(writes.write_batch(conn, batch.papers, batch.entries, batch.stars))
    if len(items) >= PAGE_SIZE:
        report.notes.append(
            f"{where}: {len(items)} items, the most one request gives; the day may hold more"
        )
    return result

"""Hugging Face daily papers, live: `GET {api}/daily_papers?date=YYYY-MM-DD` per day.

The answer has the shape of a day file, so it is decoded and merged exactly as the file
importer does (ingest/hf_daily.py): a re-run of the same day changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from papertide.ingest.base import Batch, Report
from papertide.ingest.hf_daily import decode_day, parse_items
from papertide.ingest.http import HttpClient

DEFAULT_API_URL = "https://huggingface.co/api"
# HF answers 50 items unless asked for more; 100 is the most one request gives.
PAGE_SIZE = 100


class HfLive:
    """The live `hf-daily` source: Hugging Face's featured papers of `days`, one batch a day.

    Raises FetchError if HF cannot be read (the days before stay written).
    """

    name = "hf-daily"

    def __init__(
        self, http: HttpClient, days: Sequence[dt.date], *, api_url: str = DEFAULT_API_URL
    ) -> None:
        self.http = http
        self.days = days
        self.url = f"{api_url.rstrip('/')}/daily_papers"

    def total(self) -> None:
        return None

    def batches(self, report: Report) -> Iterator[Batch]:
        for day in self.days:
            yield self._day(day, report)

    def _day(self, day: dt.date, report: Report) -> Batch:
        response = self.http.get(self.url, params={"date": day.isoformat(), "limit": PAGE_SIZE})
        where = f"{self.url}?date={day.isoformat()}"
        items = decode_day(response.content, where, report)
        batch = Batch()
        for record, entry, snapshot in parse_items(items, day, report):
            batch.papers.append(record)
            batch.entries.append(entry)
            if snapshot:
                batch.stars.append(snapshot)
            report.records_read += 1
        if len(items) >= PAGE_SIZE:
            report.notes.append(
                f"{where}: {len(items)} items, the most one request gives; the day may hold more"
            )
        return batch

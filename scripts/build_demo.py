"""Rebuild the built-in demo slice from the shared real data (a developer tool, not shipped).

Takes the most recent DAYS featured days of the Hugging Face daily papers (normalized rows)
and the arXiv listing records of the same papers (for their categories), and writes them
to src/papertide/demo/. Usage: python scripts/build_demo.py [../shared/data] [DAYS]
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

DEST = Path(__file__).resolve().parent.parent / "src" / "papertide" / "demo"


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))  # reproducible bytes


def _embed(rows: list[dict[str, Any]]) -> None:
    """Ship the demo's vectors, so a first start needs no minutes of embedding."""
    import numpy as np

    from papertide.ingest.base import clean_text
    from papertide.search.embedder import DEFAULT_MODEL, load_embedder, paper_text

    papers = {row["arxiv_id"]: row for row in rows}
    ids = sorted(papers)
    texts = [
        paper_text(clean_text(papers[i]["title"]) or i, clean_text(papers[i]["summary"]) or "")
        for i in ids
    ]
    vectors = load_embedder(DEFAULT_MODEL).embed(texts).astype(np.float16)
    with (DEST / f"embeddings-{DEFAULT_MODEL}.npz").open("wb") as out:
        np.savez_compressed(out, ids=np.array(ids), vectors=vectors)


def main(data: Path, days: int) -> None:
    rows = []
    for path in sorted((data / "hf_daily_papers" / "normalized").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            rows.extend(json.loads(line) for line in handle if line.strip())
    wanted_days = sorted({row["daily_date"] for row in rows})[-days:]
    demo = [row for row in rows if row["daily_date"] in set(wanted_days)]
    ids = {row["arxiv_id"] for row in demo}
    listings = []
    for path in sorted((data / "arxiv_listings").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            listings.extend(r for r in map(json.loads, handle) if r["id"] in ids)
    DEST.mkdir(parents=True, exist_ok=True)
    _write(DEST / "hf_daily.jsonl.gz", demo)
    _write(DEST / "arxiv_listings.jsonl.gz", listings)
    _embed(demo)
    print(
        f"{len(demo)} daily entries on {len(wanted_days)} days "
        f"({wanted_days[0]} .. {wanted_days[-1]}), {len(listings)} arXiv listing records"
    )


if __name__ == "__main__":
    main(
        Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"),
        int(sys.argv[2]) if len(sys.argv) > 2 else 30,
    )

"""`papertide reindex`: embeddings, the vector index and the keyword index."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, TaskID

from papertide.bootstrap import open_database
from papertide.cli.common import (
    EXIT_CHANGED,
    EXIT_ERROR,
    EXIT_UNCHANGED,
    ConfigOption,
    DatabaseOption,
    DataDirOption,
    console,
    counting_bar,
    load_or_exit,
)
from papertide.db import Database
from papertide.search import reindex as reindexing
from papertide.search.embed_pool import EmbedderPool, default_processes
from papertide.search.embedder import (
    DEFAULT_MODEL,
    FLOAT_MODEL,
    Embedder,
    EmbedderUnavailable,
    load_embedder,
)
from papertide.search.text_index import TextIndexUnavailable
from papertide.search.vectors import VectorIndexError


def reindex(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="Embedding model, minilm-int8-dynamic, minilm-int8 or "
            "sentence-transformers:<name> "
            "(default: PAPERTIDE_EMBEDDING_MODEL)."
        ),
    ] = None,
    rebuild_only: Annotated[
        bool, typer.Option("--rebuild-only", help="Only rebuild the index from stored vectors.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option(help="Papers embedded and committed together.", min=1)
    ] = 256,
    processes: Annotated[
        int | None,
        typer.Option(
            help="Processes that embed side by side, one thread each (default: one a core, "
            "at most 8, for the built-in models; 1 for others).",
            min=1,
        ),
    ] = None,
) -> None:
    """Embed every paper without a current vector (all of them after a model change), then
    rebuild the vector index and the keyword index. Resumable: after an interruption, run it
    again. On PostgreSQL the keyword index is then stored for new web hosts to download."""
    settings = load_or_exit(config, data_dir=data_dir, database_url=database_url)
    name = model or settings.embedding_model
    db = open_database(settings.model_copy(update={"load_demo": False}))
    try:
        if rebuild_only:
            with counting_bar("[bold]{task.description}[/bold]") as progress:
                keywords = progress.add_task("rebuilding the indexes", total=None)
                index, text = reindexing.rebuild_indexes(
                    db, settings.data_dir, name, keyword_progress=_advance(progress, keywords)
                )
            console.print(f"The {name} index holds {index.count} vectors ({index.kind}).")
            console.print(f"The keyword index holds {len(text)} papers.")
            _share_keyword_index(db, settings.data_dir)
            raise typer.Exit(EXIT_CHANGED)
        with _embedder(name, processes) as embedder:
            done = _embed_all(db, settings.data_dir, embedder, batch_size)
    except (VectorIndexError, EmbedderUnavailable, TextIndexUnavailable, ValueError) as exc:
        console.print(f"[red]reindex failed:[/red] {exc}")
        raise typer.Exit(EXIT_ERROR) from exc
    console.print(f"The keyword index holds {len(done.keywords)} papers.")
    _share_keyword_index(db, settings.data_dir)
    console.print(f"Embedded {done.embedded} papers with {name}; the vector index is rebuilt.")
    if name != settings.embedding_model:
        console.print(
            f"[yellow]Set PAPERTIDE_EMBEDDING_MODEL={name}[/yellow] so the web app and the "
            "worker use these vectors."
        )
    raise typer.Exit(EXIT_CHANGED if done.embedded else EXIT_UNCHANGED)


@contextmanager
def _embedder(name: str, processes: int | None) -> Iterator[Embedder]:
    """The model `name`, in a pool of processes when more than one is asked for or when it
    is the built-in model on a machine with several cores (issue #12)."""
    count = processes or (default_processes() if name in (DEFAULT_MODEL, FLOAT_MODEL) else 1)
    if count == 1:
        yield load_embedder(name)
        return
    with EmbedderPool(name, count) as pool:
        yield pool


def _embed_all(
    db: Database, data_dir: Path, embedder: Embedder, batch_size: int
) -> reindexing.Refreshed:
    """`refresh` with every vector replaced, under a bar with papers/s and time left."""
    with counting_bar("[bold]{task.description}[/bold]", unit="papers") as progress:
        task = progress.add_task(
            f"embedding with {embedder.name}", total=reindexing.pending(db, embedder)
        )
        keywords = progress.add_task("keyword index", total=None, start=False)
        return reindexing.refresh(
            db,
            data_dir,
            embedder,
            rebuild_all=True,
            batch_size=batch_size,
            progress=lambda n: progress.advance(task, n),
            keyword_progress=_advance(progress, keywords),
        )


def _share_keyword_index(db: Database, data_dir: Path) -> None:
    """Store the rebuilt keyword index for new web hosts (PostgreSQL); a failure is reported,
    not fatal: the worker's keyword-snapshot job tries again."""
    try:
        published = reindexing.share_keyword_index(db, data_dir)
    except Exception as exc:
        console.print(f"[yellow]The keyword index snapshot was not stored:[/yellow] {exc}")
        return
    if published is not None:
        console.print(
            f"Stored the keyword index for new hosts ({published.byte_size / 2**20:.1f} MiB)."
        )


def _advance(progress: Progress, task: TaskID) -> Callable[[int, int], None]:
    """A (done, total) callback that moves `task` of `progress`."""

    def advance(done: int, total: int) -> None:
        progress.start_task(task)
        progress.update(task, completed=done, total=total)

    return advance

"""`papertide reindex`: embeddings, the vector index and the keyword index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

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
from papertide.search.embedder import Embedder, EmbedderUnavailable, load_embedder
from papertide.search.text_index import TextIndex, TextIndexUnavailable
from papertide.search.vectors import VectorIndexError


def reindex(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="Embedding model, minilm-int8 or sentence-transformers:<name> "
            "(default: PAPERTIDE_EMBEDDING_MODEL)."
        ),
    ] = None,
    rebuild_only: Annotated[
        bool, typer.Option("--rebuild-only", help="Only rebuild the index from stored vectors.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option(help="Papers embedded and committed together.", min=1)
    ] = 256,
) -> None:
    """Embed every paper without a current vector (all of them after a model change), then
    rebuild the vector index. Resumable: after an interruption, run it again."""
    settings = load_or_exit(config, data_dir=data_dir, database_url=database_url)
    name = model or settings.embedding_model
    db = open_database(settings.model_copy(update={"load_demo": False}))
    try:
        if rebuild_only:
            with console.status("Rebuilding the vector index…"):
                index = reindexing.rebuild(db, settings.data_dir, name)
            console.print(f"The {name} index holds {index.count} vectors ({index.kind}).")
            _rebuild_keyword_index(db, settings.data_dir)
            raise typer.Exit(EXIT_CHANGED)
        embedder = load_embedder(name)
        embedded = _embed_with_progress(db, settings.data_dir, embedder, batch_size)
        _rebuild_keyword_index(db, settings.data_dir)
    except (VectorIndexError, EmbedderUnavailable, TextIndexUnavailable, ValueError) as exc:
        console.print(f"[red]reindex failed:[/red] {exc}")
        raise typer.Exit(EXIT_ERROR) from exc
    console.print(f"Embedded {embedded} papers with {name}; the vector index is rebuilt.")
    if name != settings.embedding_model:
        console.print(
            f"[yellow]Set PAPERTIDE_EMBEDDING_MODEL={name}[/yellow] so the web app and the "
            "worker use these vectors."
        )
    raise typer.Exit(EXIT_CHANGED if embedded else EXIT_UNCHANGED)


def _rebuild_keyword_index(db: Database, data_dir: Path) -> None:
    """Build the keyword index afresh (hybrid search's BM25 side), with a progress bar."""
    with Progress(
        TextColumn("[bold]keyword index[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("keyword index", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        index = TextIndex.build(db, data_dir, advance)
    console.print(f"The keyword index holds {len(index)} papers.")


def _embed_with_progress(db: Database, data_dir: Path, embedder: Embedder, batch: int) -> int:
    with counting_bar(f"[bold]embedding with {embedder.name}[/bold]") as progress:
        task = progress.add_task("embedding", total=reindexing.pending(db, embedder))
        return reindexing.reindex(
            db, data_dir, embedder, lambda n: progress.advance(task, n), batch_size=batch
        )

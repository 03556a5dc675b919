"""Reading lists (issue #14): `/lists`, `/lists/{id}`, saving from a paper page, exports
(BibTeX, RIS, CSL-JSON) of a list or one paper, and BibTeX import.

A private list is visible to its owner only: to anyone else its page, its exports and its
feed answer 404, exactly as for a list that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from papertide import cite, following, reading
from papertide.arxiv_ids import InvalidArxivId, parse_arxiv_id
from papertide.db import lists as list_rows
from papertide.db import queries
from papertide.following import SavedSearch
from papertide.models import Account
from papertide.reading import ImportReport, ListProblem
from papertide.web.auth import PRIVATE, SignedIn, current_viewer
from papertide.web.deps import DatabaseDep, PageDep, RowIdPath
from papertide.web.syndication import FeedLink

router = APIRouter()

ExportFormat = Literal["bib", "ris", "json"]
MEDIA = {
    "bib": "application/x-bibtex; charset=utf-8",
    "ris": "application/x-research-info-systems; charset=utf-8",
    "json": "application/vnd.citationstyles.csl+json; charset=utf-8",
}
NameField = Annotated[str, Form(max_length=reading.MAX_NAME * 2)]
NoteField = Annotated[str, Form(max_length=reading.MAX_NOTE * 2)]


def _paper_id(text: str) -> str:
    try:
        return parse_arxiv_id(text).base
    except InvalidArxivId as exc:
        raise HTTPException(404, f"“{text}” is not an arXiv id.") from exc


def _export(papers: list[cite.Citable], fmt: ExportFormat, filename: str) -> Response:
    body = {"bib": cite.bibtex, "ris": cite.ris, "json": cite.csl_json}[fmt](papers)
    headers = {"content-disposition": f'inline; filename="{filename}.{fmt}"'}
    return Response(body, media_type=MEDIA[fmt], headers=headers)


def _lists_page(
    page: PageDep,
    db: DatabaseDep,
    account: Account,
    status_code: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    with db.read() as conn:
        mine = list_rows.of_user(conn, account.id)
    authors, searches = following.of_member(db, account)
    saved = [(item, SavedSearch.parse(item.value)) for item in searches]
    return page.render(
        "lists.html",
        status_code=status_code,
        nav="lists",
        lists=mine,
        error=error,
        authors=authors,
        searches=saved,
    )


@router.get("/lists", response_class=HTMLResponse)
def my_lists(page: PageDep, db: DatabaseDep, account: SignedIn) -> HTMLResponse:
    """The member's reading lists, followed authors and saved searches."""
    return _lists_page(page, db, account)


@router.post("/lists", response_model=None)
def create_list(
    page: PageDep,
    db: DatabaseDep,
    account: SignedIn,
    name: NameField = "",
    public: Annotated[bool, Form()] = False,
) -> Response:
    try:
        list_id = reading.create(db, account, name, public)
    except ListProblem as exc:
        return _lists_page(page, db, account, 400, str(exc))
    return RedirectResponse(f"/lists/{list_id}", status_code=303)


def _list_page(
    request: Request,
    page: PageDep,
    db: DatabaseDep,
    list_id: int,
    status_code: int = 200,
    report: ImportReport | None = None,
    error: str | None = None,
) -> HTMLResponse:
    viewer = current_viewer(request)
    viewer.here = f"/lists/{list_id}"  # where a vote on a card returns, after an import too
    found = reading.readable(db, list_id, viewer.account)
    if found is None:
        raise HTTPException(404, "There is no such list, or it is private.")
    with db.read() as conn:
        items = list_rows.items(conn, list_id)
        cards = queries.cards_by_ids(conn, [item.paper_id for item in items])
    notes = {item.paper_id: item.note for item in items if item.note}
    feed = (
        FeedLink(f"{found.name} ({found.owner})", f"/feeds/lists/{found.id}")
        if found.public
        else None
    )
    response = page.render(
        "list.html",
        status_code=status_code,
        nav="lists",
        reading_list=found,
        cards=cards,
        notes=notes,
        mine=viewer.account is not None and viewer.account.id == found.user_id,
        report=report,
        error=error,
        syndication=feed,
    )
    if not found.public:
        response.headers["cache-control"] = PRIVATE
    return response


@router.get("/lists/{list_id}", response_class=HTMLResponse)
def list_page(request: Request, page: PageDep, db: DatabaseDep, list_id: RowIdPath) -> HTMLResponse:
    return _list_page(request, page, db, list_id)


def _owned(db: DatabaseDep, list_id: int, account: Account) -> None:
    try:
        reading.owned(db, list_id, account)
    except ListProblem as exc:
        raise HTTPException(404, "You have no such list.") from exc


@router.post("/lists/{list_id}/settings", response_model=None)
def change_list(
    request: Request,
    page: PageDep,
    db: DatabaseDep,
    account: SignedIn,
    list_id: RowIdPath,
    name: NameField = "",
    public: Annotated[bool, Form()] = False,
) -> Response:
    _owned(db, list_id, account)
    try:
        reading.change(db, account, list_id, name, public)
    except ListProblem as exc:
        return _list_page(request, page, db, list_id, 400, error=str(exc))
    return RedirectResponse(f"/lists/{list_id}", status_code=303)


@router.post("/lists/{list_id}/delete", response_model=None)
def delete_list(db: DatabaseDep, account: SignedIn, list_id: RowIdPath) -> Response:
    _owned(db, list_id, account)
    reading.delete(db, account, list_id)
    return RedirectResponse("/lists", status_code=303)


@router.post("/lists/{list_id}/remove", response_model=None)
def remove_paper(
    db: DatabaseDep,
    account: SignedIn,
    list_id: RowIdPath,
    paper: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    _owned(db, list_id, account)
    reading.remove(db, account, list_id, _paper_id(paper))
    return RedirectResponse(f"/lists/{list_id}", status_code=303)


@router.post("/lists/{list_id}/import", response_model=None)
async def import_bibtex(
    request: Request,
    page: PageDep,
    db: DatabaseDep,
    account: SignedIn,
    list_id: RowIdPath,
    file: Annotated[UploadFile, File(description="a .bib file")],
) -> Response:
    """Match a BibTeX file's entries to papers here; save the matches to the list."""
    from papertide.web.offload import off_loop

    data = await file.read(reading.MAX_IMPORT_BYTES + 1)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")

    def run() -> Response:
        _owned(db, list_id, account)
        try:
            report = reading.import_bibtex(db, account, list_id, text)
        except ListProblem as exc:
            return _list_page(request, page, db, list_id, 400, error=str(exc))
        return _list_page(request, page, db, list_id, report=report)

    return await off_loop(run)


@router.get("/lists/{list_id}/export.{fmt}", response_model=None)
def export_list(
    request: Request, db: DatabaseDep, list_id: RowIdPath, fmt: ExportFormat
) -> Response:
    found = reading.readable(db, list_id, current_viewer(request).account)
    if found is None:
        raise HTTPException(404, "There is no such list, or it is private.")
    with db.read() as conn:
        ids = [item.paper_id for item in list_rows.items(conn, list_id)]
    response = _export(reading.citables(db, ids), fmt, f"papertide-list-{list_id}")
    if not found.public:
        response.headers["cache-control"] = PRIVATE
    return response


@router.get("/papers/{arxiv_id:path}/cite.{fmt}", response_model=None)
def cite_paper(db: DatabaseDep, arxiv_id: str, fmt: ExportFormat) -> Response:
    """One paper's citation (BibTeX, RIS or CSL-JSON)."""
    paper_id = _paper_id(arxiv_id)
    papers = reading.citables(db, [paper_id])
    if not papers:
        raise HTTPException(404, f"Paper {paper_id} is not in this instance's database.")
    return _export(papers, fmt, paper_id.replace("/", "_"))


@router.post("/papers/{arxiv_id:path}/save", response_model=None)
def save_paper(
    db: DatabaseDep,
    account: SignedIn,
    arxiv_id: str,
    choice: Annotated[str, Form(alias="list", max_length=20)] = "",
    new_list: NameField = "",
    note: NoteField = "",
) -> Response:
    """Save a paper to one of the member's lists, or to a new one named `new_list`."""
    paper_id = _paper_id(arxiv_id)
    try:
        if choice == "new" or not choice:
            list_id = reading.create(db, account, new_list or "Reading list")
        elif choice.isdigit():
            list_id = int(choice)
        else:
            raise ListProblem("Choose a list.")
        reading.save(db, account, list_id, paper_id, note)
    except ListProblem as exc:
        raise HTTPException(400, str(exc)) from exc
    return RedirectResponse(f"/papers/{paper_id}?saved={list_id}#save", status_code=303)

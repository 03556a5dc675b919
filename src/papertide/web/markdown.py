"""The Markdown view of a paper (`/papers/{id}.md`), for people and tools that read text."""

from __future__ import annotations

from papertide.models import PaperDetail


def paper_markdown(paper: PaperDetail) -> str:
    """Title, authors, links and abstract as Markdown."""
    lines = [f"# {paper.title}", ""]
    if paper.withdrawn:
        lines += ["> This paper has been withdrawn by its authors.", ""]
    if paper.authors:
        lines += [f"**Authors:** {', '.join(paper.authors)}", ""]
    lines += [f"- arXiv: https://arxiv.org/abs/{paper.arxiv_id}"]
    lines += [f"- PDF: https://arxiv.org/pdf/{paper.arxiv_id}"]
    if paper.github_repo:
        stars = f" ({paper.github_stars} stars)" if paper.github_stars is not None else ""
        lines += [f"- Code: https://github.com/{paper.github_repo}{stars}"]
    if paper.project_page:
        lines += [f"- Project page: {paper.project_page}"]
    if paper.published_at:
        lines += [f"- Published: {paper.published_at.date().isoformat()}"]
    if paper.categories:
        lines += [f"- Categories: {', '.join(paper.categories)}"]
    for featuring in paper.featured:
        who = featuring.submitter_fullname or featuring.submitted_by
        lines += [f"- Featured: {featuring.date.isoformat()}" + (f" by {who}" if who else "")]
    if paper.doi:
        lines += [f"- DOI: https://doi.org/{paper.doi}"]
    if paper.journal_ref:
        lines += [f"- Journal reference: {paper.journal_ref}"]
    lines += ["", "## Abstract", "", " ".join(paper.abstract.split()), ""]
    if paper.ai_summary:
        lines += ["## AI-generated summary", "", paper.ai_summary, ""]
    return "\n".join(lines)

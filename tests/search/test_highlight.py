"""Search snippets made in Python (search/highlight.py)."""

from __future__ import annotations

from papertide.db.fts import MARK_CLOSE, MARK_OPEN
from papertide.search.highlight import snippet, stem
from papertide.search.keyword import highlight

ABSTRACT = (
    "We study how large models behave. Training data matters less than expected. "
    "Finally, our modelling of reasoning shows that language models reason by "
    "retrieval, and a model that reasons well also retrieves well, as the final "
    "experiments on Café datasets confirm."
)


def _marked(text: str) -> list[str]:
    return [part.split(MARK_CLOSE)[0] for part in text.split(MARK_OPEN)[1:]]


def test_stem_folds_plurals_and_endings() -> None:
    assert stem("Models") == stem("model") == "model"
    assert stem("studies") == stem("study") == "study"
    assert stem("reasoning") == stem("reasons") == "reason"
    assert stem("is") == "is"  # too short to strip


def test_marks_every_form_of_the_query_words_in_the_best_window() -> None:
    found = snippet(ABSTRACT, ["language", "model", "reasoning"], window=20)
    marked = _marked(found)
    assert {"language", "models", "model", "reasoning", "reason", "reasons"} <= set(marked)
    assert found.startswith("…") and found.endswith("…")
    assert "modelling" not in marked  # a different word, not a form of "model"


def test_whole_text_when_it_fits_and_folded_accents() -> None:
    found = snippet("A cafe study.", ["café"])
    assert found == f"A {MARK_OPEN}cafe{MARK_CLOSE} study."


def test_no_match_no_snippet() -> None:
    assert snippet(ABSTRACT, ["zebrafish"]) == ""
    assert snippet("", ["model"]) == ""


def test_html_in_abstracts_is_escaped() -> None:
    found = snippet("A <script>model</script> & more", ["model"])
    assert highlight(found) == "A &lt;script&gt;<mark>model</mark>&lt;/script&gt; &amp; more"

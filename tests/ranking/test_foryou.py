"""The pure For-you ranker (issue #14): scores, reasons, negatives, statistics."""

from __future__ import annotations

import dataclasses

import numpy as np
from tests.ranking.foryou_papers import DAY, GRAPH_PAPER, GRAPHS, ROBOT_PAPER, ROBOTS, vectors

from papertide.ranking.foryou import TermStatistics, homes, rank, terms


def test_terms_are_words_and_word_pairs_without_stopwords_or_numbers() -> None:
    assert terms("Graph Neural Networks", "in 2024 we train them") == [
        "graph",
        "neural",
        "networks",
        "graph neural",
        "neural networks",
        "train",
    ]  # no pair spans the title's end and the abstract's start


def test_idf_weighs_rare_terms_more_and_vectors_have_unit_length() -> None:
    stats = TermStatistics.from_texts([("graph networks", "a"), ("graph lensing", "b")])
    assert stats.documents == 2
    ids, weights = stats.vector("graph lensing", "")
    assert len(ids) == 3 and abs(float(np.linalg.norm(weights)) - 1) < 1e-6  # two words, a pair
    weight = dict(zip(ids.tolist(), weights.tolist(), strict=True))
    graph, lensing = (weight[int(stats.vector(word, "")[0][0])] for word in ("graph", "lensing"))
    assert lensing > graph > 0  # "graph" is in both papers, "lensing" in one


def test_a_reader_of_one_topic_gets_that_topic_first_with_the_nearest_upvote() -> None:
    ranked = rank(GRAPHS, DAY, vectors())
    assert ranked[0].arxiv_id == GRAPH_PAPER
    assert ranked[0].reason.startswith("close to 3 papers you liked: ")
    assert "graph neural networks" in ranked[0].reason.lower()
    assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
    assert {s.arxiv_id for s in ranked} == {p.arxiv_id for p in DAY}


def test_papers_far_from_every_upvote_get_a_category_reason() -> None:
    ranked = {s.arxiv_id: s for s in rank(GRAPHS, DAY, vectors())}
    assert ranked["2602.00005"].score == min(s.score for s in ranked.values())
    assert ranked["2602.00005"].reason == "outside the topics of the papers you liked"
    # No shared words with the upvotes, but cs.LG as all three of them.
    robots = dataclasses.replace(DAY[2], title="Grasping", abstract="Grasping arms.")
    found = {s.arxiv_id: s for s in rank(GRAPHS, [robots], vectors())}
    assert found[ROBOT_PAPER].reason == "in cs.LG, like 3 of yours"


def test_not_for_me_drops_the_neighbours_of_the_paper_set_aside() -> None:
    liked = [*GRAPHS, ROBOTS]
    before = [s.arxiv_id for s in rank(liked, DAY, vectors())]
    after = [s.arxiv_id for s in rank(liked, DAY, vectors(), negatives=[ROBOTS, ROBOTS])]
    assert before.index(ROBOT_PAPER) < after.index(ROBOT_PAPER)
    assert after[0] == GRAPH_PAPER and after[-1] == ROBOT_PAPER


def test_an_upvoted_paper_listed_that_day_is_not_recommended() -> None:
    ranked = rank(GRAPHS, [*DAY, GRAPHS[0]], vectors())
    assert GRAPHS[0].arxiv_id not in {s.arxiv_id for s in ranked} and len(ranked) == len(DAY)


def test_without_upvotes_every_score_is_zero_and_the_order_is_by_id() -> None:
    ranked = rank([], DAY, vectors())
    assert [s.arxiv_id for s in ranked] == sorted(p.arxiv_id for p in DAY)
    assert {s.score for s in ranked} == {0.0}


def test_close_counts_the_liked_papers_near_the_best_candidates_only() -> None:
    ranked = {s.arxiv_id: s for s in rank(GRAPHS, DAY, vectors())}
    assert ranked[GRAPH_PAPER].close == 3  # what "close to 3 papers you liked" counts
    assert ranked["2602.00005"].close == 0
    first_only = rank(GRAPHS, DAY, vectors(), explained=0)
    assert {s.close for s in first_only} == {0}


def test_a_new_abstract_gets_a_new_vector() -> None:
    cache = vectors()
    paper = DAY[0]
    first = cache.of(paper)
    changed = cache.of(dataclasses.replace(paper, abstract="Weak lensing of galaxy clusters."))
    assert cache.of(paper) is first and not np.array_equal(first[0], changed[0])


def test_homes_are_the_owners_of_code_and_project_links_in_abstract_and_comments() -> None:
    paper = dataclasses.replace(
        DAY[0],
        abstract="Code is at https://github.com/OpenGVLab/InternVL.",
        comments="Project page: https://speech-lab.github.io/stream; data: "
        "huggingface.co/datasets/allenai/sciq",
    )
    assert homes(paper) == {
        "github.com/opengvlab",
        "speech-lab.github.io",
        "huggingface.co/datasets/allenai",
    }
    assert homes(DAY[1]) == frozenset()
    shared_by_many = dataclasses.replace(
        DAY[1],
        abstract="Code: github.com/anonymous/x-2F1A; see huggingface.co/papers/2501.00001 and "
        "huggingface.co/collections/Qwen/qwen3.",
    )
    assert homes(shared_by_many) == {"huggingface.co/collections/qwen"}
    known = dataclasses.replace(
        DAY[1], repository="NVlabs/Sana", project_page="https://nvlabs.github.io/Sana/"
    )
    assert homes(known) == {"github.com/nvlabs", "nvlabs.github.io"}


def test_a_paper_whose_code_lives_where_a_liked_papers_does_ranks_higher_and_says_so() -> None:
    liked = [
        dataclasses.replace(GRAPHS[0], comments="Code: github.com/graph-lab/mpnn"),
        *GRAPHS[1:],
    ]
    speech, protein = DAY[0], DAY[3]  # both far from graphs, neither in cs.LG
    plain = [s.arxiv_id for s in rank(liked, [speech, protein], vectors())]
    assert plain == [speech.arxiv_id, protein.arxiv_id]  # a tie, by id
    coded = dataclasses.replace(
        protein, abstract=f"{protein.abstract} See github.com/Graph-Lab/fold."
    )
    ranked = rank(liked, [speech, coded], vectors(), explained=0)  # no "close to" reasons
    assert [s.arxiv_id for s in ranked] == [protein.arxiv_id, speech.arxiv_id]
    assert (
        ranked[0].reason == "code or project page at github.com/graph-lab, like a paper you liked"
    )


def test_the_comments_line_counts_as_text() -> None:
    assert terms("Graphs", "", "Accepted at NeurIPS") == [
        "graphs",
        "accepted",
        "neurips",
        "accepted neurips",
    ]
    venue = dataclasses.replace(GRAPHS[0], comments="Oral at the Weak Lensing Workshop")
    ranked = [s.arxiv_id for s in rank([venue], DAY, vectors())]
    assert ranked.index("2602.00005") < ranked.index("2602.00004")


def test_a_best_candidate_only_loosely_like_a_liked_paper_says_so() -> None:
    liked = [GRAPHS[0]]
    loose = dataclasses.replace(
        DAY[3],
        abstract=f"{DAY[3].abstract} Diffusion models denoise protein structures, "
        "amino acids, backbones, side chains and sequences; property prediction.",
    )
    ranked = {s.arxiv_id: s for s in rank(liked, [loose, DAY[4]], vectors())}
    assert ranked[loose.arxiv_id].reason.startswith("loosely like a paper you liked: Graph neural")
    assert ranked[loose.arxiv_id].close == 0
    assert ranked[DAY[4].arxiv_id].reason == "outside the topics of the papers you liked"

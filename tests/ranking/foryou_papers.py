"""Small papers on a few distinct topics, for the For-you tests (issue #14)."""

from __future__ import annotations

from papertide.ranking.foryou import Paper, PaperVectors, TermStatistics

GRAPHS = [
    Paper(
        "2601.00001",
        "Graph neural networks for molecule property prediction",
        "We train graph neural networks with message passing on molecular graphs.",
        ("cs.LG",),
    ),
    Paper(
        "2601.00002",
        "Oversmoothing in deep graph neural networks",
        "Message passing layers in graph neural networks make node features alike.",
        ("cs.LG", "stat.ML"),
    ),
    Paper(
        "2601.00003",
        "Expressive power of message passing",
        "Graph neural networks and the Weisfeiler-Leman test on node classification.",
        ("cs.LG",),
    ),
]
ROBOTS = Paper(
    "2601.00010",
    "Reinforcement learning for robot grasping",
    "A robot arm learns grasping policies with reinforcement learning in simulation.",
    ("cs.RO",),
)
DAY = [
    Paper(
        "2602.00001",
        "Speech recognition with streaming transformers",
        "Streaming transformers transcribe speech with low latency on phones.",
        ("eess.AS", "cs.CL"),
    ),
    Paper(
        "2602.00002",
        "Scalable graph neural networks via message passing on sampled subgraphs",
        "Message passing graph neural networks trained on sampled subgraphs of large graphs.",
        ("cs.LG",),
    ),
    Paper(
        "2602.00003",
        "Sim-to-real robot grasping with reinforcement learning",
        "Grasping policies learned by reinforcement learning transfer from simulation to a robot.",
        ("cs.RO", "cs.LG"),
    ),
    Paper(
        "2602.00004",
        "Protein folding with diffusion models",
        "A diffusion model generates protein structures from sequences.",
        ("q-bio.BM",),
    ),
    Paper(
        "2602.00005",
        "Galaxy cluster masses from weak lensing",
        "Weak lensing shear profiles measure the masses of galaxy clusters.",
        ("astro-ph.CO",),
    ),
]
GRAPH_PAPER, ROBOT_PAPER = DAY[1].arxiv_id, DAY[2].arxiv_id


def vectors() -> PaperVectors:
    """Vectors over statistics counted from every paper here."""
    every = [*GRAPHS, ROBOTS, *DAY]
    return PaperVectors(TermStatistics.from_texts((p.title, p.abstract) for p in every))

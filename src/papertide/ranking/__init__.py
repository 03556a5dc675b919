"""Orderings of papers: trending (issue #5)."""

"""What a browser would build from some HTML: its tags and attributes (for XSS tests)."""

from __future__ import annotations

from html.parser import HTMLParser


def tags_and_attributes(html: str) -> tuple[set[str], list[tuple[str, str]]]:
    """The start tags in `html` and every attribute (name, value) they carry."""
    found: tuple[set[str], list[tuple[str, str]]] = (set(), [])

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found[0].add(tag)
            found[1].extend((name, value or "") for name, value in attrs)

    Collect().feed(html)
    return found

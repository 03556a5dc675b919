"""The one XML parser every live source uses: ElementTree on expat, with DOCTYPE refused.

defusedxml is not a dependency, and need not be: every XML attack it guards against (entity
expansion such as the billion laughs, external entities, external DTDs) needs a DOCTYPE, and
expat reports the DOCTYPE to the tree builder before any entity in it is declared, so
refusing it there means nothing is ever expanded or fetched. Python's expat fetches no
external resource by itself.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET


class XmlError(ValueError):
    """A body that is not one whole, well-formed XML document without a DOCTYPE."""


class _NoDoctype(ET.TreeBuilder):
    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise XmlError(f"a DOCTYPE ({name!r}) is not allowed: it could declare entities")


def parse_xml(body: bytes | str) -> ET.Element:
    """Parse a whole document; XmlError if it is truncated, malformed or has a DOCTYPE."""
    parser = ET.XMLParser(target=_NoDoctype())
    try:
        parser.feed(body)
        root: ET.Element = parser.close()
    except ET.ParseError as exc:
        raise XmlError(f"not well-formed XML (truncated?): {exc}") from None
    return root

"""The one XML parser of the live sources: whole documents only, no DOCTYPE, no entities."""

from __future__ import annotations

import re

import pytest

from papertide.ingest import arxiv_api, arxiv_oai, arxiv_rss
from papertide.ingest.safe_xml import XmlError, parse_xml

BOMB = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    "<r>&c;</r>"
)


def test_a_whole_document_parses() -> None:
    root = parse_xml(b'<?xml version="1.0"?><feed xmlns="urn:x"><entry>1</entry></feed>')
    assert root.tag == "{urn:x}feed"
    assert [child.text for child in root] == ["1"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (BOMB, "a DOCTYPE ('r') is not allowed"),
        ('<!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>', "a DOCTYPE ('r') is not allowed"),
        ("<feed><entry>cut off", "not well-formed XML (truncated?)"),
        ("", "not well-formed XML (truncated?)"),
        ("<html><body>Service unavailable", "not well-formed XML (truncated?)"),
    ],
)
def test_what_is_refused(body: str, message: str) -> None:
    with pytest.raises(XmlError, match=re.escape(message)):
        parse_xml(body)


def test_every_live_xml_source_uses_it() -> None:
    """There is one parser: the sources hold no XMLParser of their own (issue #10)."""
    for module in (arxiv_api, arxiv_oai, arxiv_rss):
        assert not hasattr(module, "_NoDoctype")
    with pytest.raises(arxiv_api.ArxivFeedError, match="a DOCTYPE"):
        arxiv_rss.parse_rss(BOMB, "feed.xml")
    with pytest.raises(arxiv_oai.OaiFormatError, match=r"^u: a DOCTYPE"):
        arxiv_oai.parse_list_records(BOMB, "u")

"""Pages rendered once for every member, then finished per member (issue #12).

A list page (a day, trending, a search) looks the same to every signed-in member except for
three things: the header's account links, the CSRF token in each form, and which papers this
member upvoted. The page is rendered once with *slots* in their place (a `Viewer` in skeleton
mode writes them), parsed into literal bytes and slots, and cached like an anonymous page;
each member's request then joins the parts with that member's values, in microseconds.

A slot is `\\x1e<nonce>:<kind>:<argument>\\x1f`. The nonce is random per process, so no title
or abstract can forge one. Kinds:

- `csrf`: the member's CSRF token;
- `nav:<page>`: the header's account links, as `_account_nav.html` renders them on `<page>`;
- `upvoted:<arxiv id>` … `else` … `end`: the markup for "this member upvoted it", then for
  "not upvoted", both rendered in full by the template itself, so no markup lives here.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from markupsafe import Markup

NONCE = secrets.token_hex(8)
_SLOT = re.compile(rb"\x1e" + NONCE.encode() + rb":([a-z]+):([^\x1e\x1f]*)\x1f")


def slot(kind: str, argument: str = "") -> Markup:
    """The marker a skeleton page carries in place of a per-member value."""
    if "\x1e" in argument or "\x1f" in argument:
        raise ValueError(f"a slot argument cannot hold control characters: {argument!r}")
    return Markup(f"\x1e{NONCE}:{kind}:{argument}\x1f")


@dataclass(frozen=True, slots=True)
class Choice:
    """`when` if the member upvoted `paper_id`, else `otherwise`."""

    paper_id: str
    when: list[Part]
    otherwise: list[Part]


@dataclass(frozen=True, slots=True)
class Value:
    kind: str  # csrf or nav
    argument: str


Part = bytes | Value | Choice


class SkeletonError(ValueError):
    """A skeleton page whose slots do not nest (a template bug)."""


def parse(body: bytes) -> list[Part]:
    """The parts of a skeleton page, literal runs merged."""
    root: list[Part] = []
    # Each open `upvoted` slot: (its paper, the `when` parts, the `otherwise` parts or None).
    stack: list[tuple[str, list[Part], list[Part] | None]] = []
    current = root
    position = 0
    for match in _SLOT.finditer(body):
        if match.start() > position:
            current.append(body[position : match.start()])
        position = match.end()
        kind, argument = match.group(1).decode(), match.group(2).decode()
        if kind == "upvoted":
            stack.append((argument, [], None))
            current = stack[-1][1]
        elif kind == "else":
            if not stack or stack[-1][2] is not None:
                raise SkeletonError("an `else` slot outside an `upvoted` one")
            paper_id, when, _ = stack[-1]
            stack[-1] = (paper_id, when, [])
            current = stack[-1][2]  # type: ignore[assignment]
        elif kind == "end":
            if not stack or stack[-1][2] is None:
                raise SkeletonError("an `end` slot without its `upvoted` and `else`")
            paper_id, when, otherwise = stack.pop()
            current = _innermost(stack, root)
            current.append(Choice(paper_id, when, otherwise or []))
        elif kind in ("csrf", "nav"):
            current.append(Value(kind, argument))
        else:
            raise SkeletonError(f"unknown slot kind {kind!r}")
    if stack:
        raise SkeletonError("an `upvoted` slot is never closed")
    if position < len(body):
        root.append(body[position:])
    return _merged(root)


def _innermost(
    stack: list[tuple[str, list[Part], list[Part] | None]], root: list[Part]
) -> list[Part]:
    """Where parts go now: the open `upvoted` slot's current branch, or the page itself."""
    if not stack:
        return root
    _, when, otherwise = stack[-1]
    return when if otherwise is None else otherwise


def _merged(parts: list[Part]) -> list[Part]:
    out: list[Part] = []
    for part in parts:
        if isinstance(part, Choice):
            part = Choice(part.paper_id, _merged(part.when), _merged(part.otherwise))
        if isinstance(part, bytes) and out and isinstance(out[-1], bytes):
            out[-1] += part
        else:
            out.append(part)
    return out


@dataclass
class Member:
    """What a member's copy of a page needs: their token, their votes, their header."""

    csrf_token: bytes
    upvoted: Collection[str]
    render_nav: Callable[[str], bytes]
    navs: dict[str, bytes] = field(default_factory=dict)

    def nav(self, page: str) -> bytes:
        found = self.navs.get(page)
        if found is None:
            found = self.navs[page] = self.render_nav(page)
        return found


def fill(parts: list[Part], member: Member) -> bytes:
    """The page as `member` sees it."""
    out: list[bytes] = []
    pending = [iter(parts)]
    while pending:
        for part in pending[-1]:
            if isinstance(part, bytes):
                out.append(part)
            elif isinstance(part, Choice):
                chosen = part.when if part.paper_id in member.upvoted else part.otherwise
                pending.append(iter(chosen))
                break
            elif part.kind == "csrf":
                out.append(member.csrf_token)
            else:
                out.append(member.nav(part.argument))
        else:
            pending.pop()
    return b"".join(out)

"""The error messages a page shows from its `?error=` parameter (issue #10).

A form that redirects back after a refusal puts a code in the URL, never the text: anyone can
craft a link, so a page shows only the fixed message its code names here and ignores any
other value.
"""

from __future__ import annotations

from papertide.db.comments import MAX_BODY_CHARS

MESSAGES = {
    # Comments (papertide.db.comments.CommentError codes).
    "comment-empty": "A comment cannot be empty.",
    "comment-too-long": f"A comment can be at most {MAX_BODY_CHARS:,} characters long.",
    "reply-elsewhere": "The comment you replied to is not on this paper.",
    # Moderation (papertide.db.moderation.ModerationError codes).
    "no-paper": "This paper is not in this instance's database.",
    "featured-elsewhere": "This paper is already featured on another day: move it instead.",
    "not-featured": "This paper is not featured.",
    "move-unfeatured": "This paper is not featured: feature it instead.",
    "same-day": "This paper is already featured on that day.",
    "no-comment": "That comment does not exist any more.",
    "no-account": "There is no account with that username.",
    "suspend-self": "You cannot suspend your own account.",
    "suspend-admin": "Admins cannot be suspended.",
}


def notice(code: str) -> str | None:
    """The message for `code`, or None for an unknown code (or any other text)."""
    return MESSAGES.get(code)

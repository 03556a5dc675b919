"""Everything Papertide keeps about a member, as one JSON document (issue #14).

What the account page's "Download your data" gives: the account, upvotes with their times,
comments (hidden ones too), submissions, reading lists with their notes, followed authors
and saved searches, "more like this" / "not for me" marks, digest subscriptions, API tokens
(names, scopes and dates: the values are not kept) and whether a personal feed address
exists. Deleting the account (Settings) removes all of it, except what others rely on, which
is kept without the member's name (their comments, their submissions).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from papertide.db import accounts as account_rows
from papertide.db import comments, feedback, follows, queries, subscribers, votes
from papertide.db import lists as list_rows
from papertide.db.engine import Database
from papertide.models import Account


def _when(value: dt.datetime | None) -> str | None:
    return value.isoformat() + ("Z" if value.tzinfo is None else "") if value else None


def member_data(db: Database, account: Account) -> dict[str, Any]:
    with db.read() as conn:
        return _collect(conn, account)


def _collect(conn: sa.Connection, account: Account) -> dict[str, Any]:
    lists = []
    for reading_list in list_rows.of_user(conn, account.id):
        lists.append(
            {
                "id": reading_list.id,
                "name": reading_list.name,
                "public": reading_list.public,
                "createdAt": _when(reading_list.created_at),
                "papers": [
                    {"paper": item.paper_id, "note": item.note, "addedAt": _when(item.added_at)}
                    for item in list_rows.items(conn, reading_list.id)
                ],
            }
        )
    subscription = subscribers.for_user(conn, account.id)
    return {
        "account": {
            "id": account.id,
            "username": account.username,
            "fullname": account.fullname,
            "email": account.email,
            "role": account.role,
            "createdAt": _when(account.created_at),
            "suspendedAt": _when(account.suspended_at),
        },
        "upvotes": [
            {"paper": paper_id, "at": _when(when)}
            for paper_id, when in votes.upvotes_of(conn, account.id)
        ],
        "comments": [
            {
                "id": c.id,
                "paper": c.paper_id,
                "parent": c.parent_id,
                "body": c.body,
                "hidden": c.hidden,
                "createdAt": _when(c.created_at),
                "editedAt": _when(c.edited_at),
            }
            for c in comments.by_user(conn, account.id, limit=None, include_hidden=True)
        ],
        "submissions": queries.submitted_ids(conn, account.id, limit=10_000),
        "readingLists": lists,
        "following": [
            {"kind": f.kind, "value": f.value, "createdAt": _when(f.created_at)}
            for f in follows.of_user(conn, account.id)
        ],
        "marks": [
            {"paper": paper_id, "signal": "more" if signal > 0 else "less", "at": _when(when)}
            for paper_id, signal, when in feedback.marks(conn, account.id)
        ],
        "digestSubscription": None
        if subscription is None
        else {
            "email": subscription.email,
            "frequency": subscription.frequency,
            "topics": subscription.topics,
            "status": subscription.status,
            "createdAt": _when(subscription.created_at),
        },
        "apiTokens": [
            {
                "name": token.name,
                "scopes": list(token.scopes),
                "createdAt": _when(token.created_at),
                "lastUsedAt": _when(token.last_used_at),
            }
            for token in account_rows.api_tokens(conn, account.id)
        ],
        "personalFeed": account_rows.feed_nonce(conn, account.id) is not None,
    }

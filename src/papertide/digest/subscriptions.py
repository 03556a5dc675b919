"""Subscribing with double opt-in, preferences and unsubscribing (issue #6, docs/digests.md).

The web pages call these; they take the Database and plain values. Rules kept here:

- An address is normalised (spaces stripped, domain lowercased) and keyed by the whole
  address lowercased, so one inbox is one subscriber.
- A new or re-subscribing address gets a confirmation mail with a single-use token of 256
  random bits, stored only as its SHA-256 and valid `subscribe_confirm_hours`. Nothing else
  is sent before it is confirmed (the digest sender sends only to `confirmed` subscribers).
- The caller answers the same way whatever the address's state (no enumeration); at most
  `subscribe_confirmations_per_day` mails go to one address per day however often it is
  submitted; a confirmed subscriber's preferences never change without the signed link (a
  re-subscribe sends them that link instead).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from html import escape
from typing import Any, Literal

import sqlalchemy as sa

from papertide.auth.tokens import new_token, token_digest
from papertide.clock import utcnow
from papertide.config import Settings
from papertide.db import subscribers as rows
from papertide.db.engine import Database
from papertide.db.subscribers import Subscriber, SubscriberExists
from papertide.digest.links import (
    preferences_url,
    subscriber_token,
    token_subscriber_id,
    token_valid,
)

FREQUENCIES = ("daily", "weekly")
MAX_EMAIL = 254
MAX_KEYWORDS = 20
MAX_KEYWORD = 60
MAX_CATEGORIES = 30
MAX_SEARCH = 200
_LOCAL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_CATEGORY = re.compile(r"[a-z][a-z-]{0,15}(?:\.[A-Za-z][A-Za-z-]{0,15})?")


class SubscribeErrors(Exception):
    """The submitted values were refused: a message per form field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Topics:
    """What a digest is narrowed to; all empty means trending papers only."""

    categories: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    search: str = ""
    like_upvotes: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "categories": list(self.categories),
            "keywords": list(self.keywords),
            "search": self.search,
            "like_upvotes": self.like_upvotes,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any] | None) -> Topics:
        value = value or {}
        return cls(
            [str(c) for c in value.get("categories") or []],
            [str(k) for k in value.get("keywords") or []],
            str(value.get("search") or ""),
            bool(value.get("like_upvotes")),
        )

    @property
    def trending_only(self) -> bool:
        return not (self.categories or self.keywords or self.search or self.like_upvotes)


@dataclass(frozen=True, slots=True)
class Preferences:
    frequency: str
    topics: Topics


def normalise_email(raw: str) -> tuple[str, str]:
    """(address to send to, uniqueness key), or ValueError with a message for the form."""
    email = raw.strip()
    problem = ValueError("Enter an email address such as name@example.org.")
    local, at, domain = email.rpartition("@")
    if not at or len(email) > MAX_EMAIL or not _LOCAL.fullmatch(local):
        raise problem
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise problem
    try:
        domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise problem from exc
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise problem
    if labels[-1].isdigit():
        raise problem
    email = f"{local}@{domain}"
    return email, email.lower()


def _split_list(text: str) -> list[str]:
    """Comma- or line-separated items, spaces collapsed, duplicates (ignoring case) dropped."""
    items: dict[str, str] = {}
    for part in re.split(r"[,\n]", text):
        item = " ".join(part.split())
        if item:
            items.setdefault(item.lower(), item)
    return list(items.values())


def parse_preferences(
    frequency: str,
    categories: list[str],
    keywords: str,
    search: str,
    like_upvotes: bool,
    *,
    signed_in: bool,
) -> Preferences:
    """Preferences from form values, or SubscribeErrors with a message per field."""
    errors: dict[str, str] = {}
    if frequency not in FREQUENCIES:
        errors["frequency"] = "Choose daily or weekly."
    cats = _split_list(",".join(categories))
    if len(cats) > MAX_CATEGORIES or not all(_CATEGORY.fullmatch(c) for c in cats):
        errors["categories"] = "Use arXiv categories such as cs.LG or hep-th, comma-separated."
    words = _split_list(keywords)
    if len(words) > MAX_KEYWORDS or any(len(w) > MAX_KEYWORD for w in words):
        errors["keywords"] = (
            f"Up to {MAX_KEYWORDS} keywords or phrases of at most {MAX_KEYWORD} characters, "
            "comma-separated."
        )
    search = " ".join(search.split())
    if len(search) > MAX_SEARCH:
        errors["search"] = f"A saved search has at most {MAX_SEARCH} characters."
    if like_upvotes and not signed_in:
        errors["like_upvotes"] = "Log in to get papers like the ones you upvote."
    if errors:
        raise SubscribeErrors(errors)
    return Preferences(frequency, Topics(cats, words, search, like_upvotes))


MailKind = Literal["confirm", "manage", "none"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a subscribe request led to: which mail (if any) to send, and to whom."""

    mail: MailKind
    email: str = ""
    token: str = ""  # the confirmation token, or the signed preferences token


def request_subscription(
    db: Database,
    settings: Settings,
    raw_email: str,
    preferences: Preferences,
    *,
    user_id: int | None = None,
    user_email: str | None = None,
    now: dt.datetime | None = None,
) -> Outcome:
    """Record a subscribe request; say which mail to send. ValueError: the address is invalid.

    `user_id` (a signed-in account) is linked only when the address is the account's own;
    "like my upvotes" needs that link.
    """
    now = now or utcnow()
    email, key = normalise_email(raw_email)
    own = user_id is not None and user_email is not None and user_email.lower() == key
    if preferences.topics.like_upvotes and not own:
        raise SubscribeErrors(
            {"like_upvotes": "Only your account's own address can follow your upvotes."}
        )
    linked = user_id if own else None
    for _attempt in range(2):
        try:
            with db.write() as conn:
                return _record(conn, settings, email, key, preferences, linked, now)
        except SubscriberExists:
            continue  # a concurrent request created it: the second pass sees the row
    raise RuntimeError(f"subscribe of {key} kept racing")  # pragma: no cover


def _record(
    conn: sa.Connection,
    settings: Settings,
    email: str,
    key: str,
    preferences: Preferences,
    user_id: int | None,
    now: dt.datetime,
) -> Outcome:
    token = new_token()
    expires = now + dt.timedelta(hours=settings.subscribe_confirm_hours)
    existing = rows.by_email_key(conn, key)
    if existing is None:
        rows.create(
            conn,
            email=email,
            email_key=key,
            frequency=preferences.frequency,
            topics=preferences.topics.as_json(),
            user_id=user_id,
            token_salt=secrets.token_hex(16),
            confirm_token_hash=token_digest(token),
            confirm_expires_at=expires,
            now=now,
        )
        return Outcome("confirm", email, token)
    sent_today = _sent_today(existing, now)
    if existing.status == "suppressed" or sent_today >= settings.subscribe_confirmations_per_day:
        return Outcome("none")
    if existing.status in ("confirmed", "paused"):
        rows.count_confirmation(conn, existing.id, sent_today=sent_today + 1, now=now)
        signed = subscriber_token(settings.secret_key, existing.id, existing.token_salt)
        return Outcome("manage", existing.email, signed)
    rows.reopen(
        conn,
        existing.id,
        frequency=preferences.frequency,
        topics=preferences.topics.as_json(),
        user_id=user_id,
        now=now,
    )
    rows.count_confirmation(
        conn,
        existing.id,
        sent_today=sent_today + 1,
        now=now,
        confirm_token_hash=token_digest(token),
        confirm_expires_at=expires,
    )
    return Outcome("confirm", existing.email, token)


def _sent_today(existing: Subscriber, now: dt.datetime) -> int:
    last = existing.last_confirmation_at
    return existing.confirmations_sent if last and last.date() == now.date() else 0


ConfirmState = Literal["ok", "expired", "invalid"]


def confirmation(
    db: Database, token: str, now: dt.datetime | None = None
) -> tuple[ConfirmState, Subscriber | None]:
    """What a confirmation link is: ok (with the subscriber), expired, or invalid/used."""
    now = now or utcnow()
    if not _plausible(token):
        return "invalid", None
    with db.read() as conn:
        found = rows.pending_by_token_hash(conn, token_digest(token))
    if found is None:
        return "invalid", None
    if found.confirm_expires_at is None or found.confirm_expires_at <= now:
        return "expired", found
    return "ok", found


def confirm(db: Database, token: str, now: dt.datetime | None = None) -> Subscriber | None:
    """Confirm and spend the token; the confirmed subscriber, or None (expired, used, wrong)."""
    now = now or utcnow()
    if not _plausible(token):
        return None
    with db.write() as conn:
        confirmed = rows.confirm(conn, token_digest(token), now)
        return rows.by_id(conn, confirmed) if confirmed is not None else None


def _plausible(token: str) -> bool:
    return 32 <= len(token) <= 128 and all(c.isalnum() or c in "-_" for c in token)


def subscriber_for_link(db: Database, secret_key: str, token: str) -> Subscriber | None:
    """The subscriber a signed link names, or None when the token is forged or revoked."""
    subscriber_id = token_subscriber_id(token)
    if subscriber_id is None:
        return None
    with db.read() as conn:
        found = rows.by_id(conn, subscriber_id)
    if found is None or not token_valid(secret_key, token, found.id, found.token_salt):
        return None
    return found


def change_preferences(db: Database, subscriber_id: int, preferences: Preferences) -> bool:
    with db.write() as conn:
        return rows.update_preferences(
            conn, subscriber_id, preferences.frequency, preferences.topics.as_json()
        )


def set_paused(db: Database, subscriber_id: int, paused: bool) -> bool:
    with db.write() as conn:
        move = rows.pause if paused else rows.resume
        return move(conn, subscriber_id, utcnow())


def unsubscribe(db: Database, subscriber_id: int, now: dt.datetime | None = None) -> bool:
    """Unsubscribe; False when already unsubscribed or suppressed (nothing changes)."""
    with db.write() as conn:
        return rows.unsubscribe(conn, subscriber_id, now or utcnow())


def confirmation_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/subscribe/confirm/{token}"


def transactional_message(settings: Settings, outcome: Outcome) -> EmailMessage:
    """The confirmation mail (or, for a confirmed address, the link to its preferences)."""
    if outcome.mail == "confirm":
        subject = f"Confirm your subscription to {settings.site_name}"
        link = confirmation_url(settings.public_url, outcome.token)
        text = (
            f"Someone, probably you, asked to receive the {settings.site_name} digest of "
            f"trending papers at this address.\n\nTo confirm, open this link and press "
            f"the button:\n\n{link}\n\nThe link works once, for "
            f"{settings.subscribe_confirm_hours:g} hours; only the latest one sent works.\n"
            "If you did not ask, ignore this message: nothing more will be sent.\n"
        )
        action = "Confirm my subscription"
    else:
        subject = f"Your {settings.site_name} subscription"
        link = preferences_url(settings.public_url, outcome.token)
        text = (
            f"Someone, probably you, asked to subscribe this address to the "
            f"{settings.site_name} digest. It is already subscribed.\n\nTo change how often "
            f"it comes or what it covers, pause it or unsubscribe:\n\n{link}\n\n"
            "If you did not ask, ignore this message: nothing changes.\n"
        )
        action = "Manage my subscription"
    return _message(settings, outcome.email, subject, text, link, action)


def _message(
    settings: Settings, to: str, subject: str, text: str, link: str, action: str
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.mail_from
    local, _at, domain = to.rpartition("@")
    message["To"] = Address(addr_spec=f"{local}@{domain}")
    message["Date"] = format_datetime(utcnow().replace(tzinfo=dt.UTC))
    sender_domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid("confirm", domain=sender_domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    paragraphs = "".join(
        f"<p>{escape(block).replace(chr(10), '<br>')}</p>"
        for block in text.split("\n\n")
        if block.strip() and block.strip() != link
    )
    button = (
        f'<p><a href="{escape(link)}" style="display:inline-block;padding:10px 16px;'
        f'background:#1f4fd6;color:#ffffff;text-decoration:none;border-radius:6px">'
        f'{escape(action)}</a></p><p style="font-size:12px;color:#555">{escape(link)}</p>'
    )
    message.add_alternative(
        f'<!doctype html><html><body style="font-family:sans-serif">{paragraphs}{button}'
        "</body></html>",
        subtype="html",
    )
    return message

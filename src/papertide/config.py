"""Settings: validated once, built by create_app() or the CLI, never at import time."""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from papertide import __version__

DEV_SECRET_KEY = "papertide-dev-insecure-secret-key"
_EHLO_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.IPv]+\]")
DEFAULT_CLAIM_LEASE_S = 300.0
# One SmtpMailer.send (digest/mailer.py) that has to reconnect, each step waiting up to
# PAPERTIDE_SMTP_TIMEOUT_S: connect, greeting, EHLO, MAIL, RCPT, DATA, the message, the final
# reply, and an RSET after a refusal (9); a TLS handshake (tls); STARTTLS, its handshake and
# the second EHLO (starttls); AUTH, up to two replies for each of two mechanisms (a login).
SMTP_STEPS = {"none": 9, "tls": 10, "starttls": 12}
SMTP_AUTH_STEPS = 4
# The longest a sender waits to record what it sent: db/engine.py's SQLite busy_timeout.
RECORD_WAIT_S = 10.0


class ConfigError(ValueError):
    """The configuration is unusable; the message says which setting and what to do."""


_UNITS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*")


@dataclass(frozen=True, slots=True)
class Rate:
    """`count` events per `window_s` seconds; a count of 0 means no limit.

    A setting's value type (PAPERTIDE_RATE_LIMIT_*), so it lives here: config imports no
    domain package (issue #10); auth.ratelimit counts against it.
    """

    count: int
    window_s: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        """`10/minute`, `5/hour`, `100/10minutes`, `1000/day`, or `off`."""
        if text.strip().lower() in ("off", "0", "none"):
            return cls(0, 1.0)
        match = _RATE.fullmatch(text.lower())
        if match is None:
            raise ValueError(
                f"{text!r} is not a rate: write it as COUNT/UNIT (e.g. 10/minute, 5/hour, "
                "100/10minutes) or off"
            )
        count, multiple, unit = int(match[1]), int(match[2] or 1), match[3]
        if multiple == 0:
            raise ValueError(f"{text!r}: the window must be longer than zero")
        return cls(count, multiple * _UNITS[unit])

    @property
    def unlimited(self) -> bool:
        return self.count == 0


class Settings(BaseSettings):
    """Everything Papertide can be configured with.

    Read from `PAPERTIDE_*` environment variables, optionally layered over a TOML file
    (`PAPERTIDE_CONFIG=/path/papertide.toml`, keys as the field names below).
    """

    model_config = SettingsConfigDict(env_prefix="PAPERTIDE_", extra="forbid")

    mode: Literal["development", "production"] = "development"
    data_dir: Path = Field(default=Path("papertide-data"))
    database_url: str | None = None  # default: SQLite file in data_dir
    # PostgreSQL connections one process keeps open, and how many more it may open at a peak
    # (docs/deploy.md, "Connection pools").
    database_pool_size: int = Field(default=5, ge=1, le=200)
    database_max_overflow: int = Field(default=10, ge=0, le=200)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secret_key: str = DEV_SECRET_KEY
    load_demo: bool = True  # load the built-in demo papers into an empty database
    site_name: str = "Papertide"
    # Email (issue #6, docs/digests.md). Links in mail start with public_url.
    public_url: str = "http://127.0.0.1:8000"
    mail_from: str = "Papertide <papertide@localhost>"
    # A folder: every message is written there as a .eml file instead of sent (development).
    mail_pickup_dir: Path | None = None
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_s: float = Field(default=30.0, gt=0, le=600)  # each SMTP step's deadline
    # The EHLO name; default: the domain of mail_from. Explicit, so that smtplib never asks
    # DNS for this host's name on each (re)connect (socket.getfqdn; issue #10).
    smtp_local_hostname: str | None = None
    # Double opt-in (issue #6): how long a confirmation link works, and how many confirmation
    # mails one address can be sent per day however often it is submitted.
    subscribe_confirm_hours: float = Field(default=48.0, gt=0, le=24 * 30)
    subscribe_confirmations_per_day: int = Field(default=3, ge=1, le=100)
    # Sending digests (issue #6, docs/digests.md): DKIM when all three are set.
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    dkim_private_key_path: Path | None = None  # PEM, RSA
    digest_send_processes: int = Field(default=1, ge=1, le=64)  # >1: helper processes send
    digest_send_nice: int = Field(default=10, ge=0, le=19)  # helpers' lowered CPU priority
    digest_send_threads: int = Field(
        default=4, ge=1, le=64
    )  # per process, each with an SMTP connection
    digest_max_per_second: float = Field(default=100.0, ge=0)  # 0: no cap
    digest_batch_size: int = Field(default=20, ge=1, le=1000)  # deliveries claimed at once
    digest_max_attempts: int = Field(default=8, ge=1, le=100)  # then the delivery is failed
    digest_retry_base_s: float = Field(default=60.0, ge=0)  # doubled on every 4xx retry
    # How long a claim holds without its sender renewing it (then a crashed sender's claims
    # are taken over); never shorter than one message's worst case (claim_lease_s).
    digest_claim_lease_s: float | None = Field(default=None, gt=0)
    digest_bounce_token: str | None = None  # Bearer token of POST /api/digest/bounce
    schedule_digest_daily: str = "07:00"  # weekdays: build the daily edition, then send it
    schedule_digest_weekly: str = "07:30"  # Mondays: the same for the weekly edition
    schedule_digest_retry_minutes: float = Field(default=10.0, ge=0)  # resume unfinished sends
    # Editions (issue #6, docs/digests.md): papers per personal selection, and what a
    # subscriber whose topics matched nothing gets: nothing ("skip") or the trending papers.
    digest_max_papers: int = Field(default=10, ge=1, le=100)
    digest_empty_selection: Literal["skip", "trending"] = "trending"
    # Live sources (issue #3).
    http_user_agent: str | None = None  # default: Papertide/<version> (+contact if set)
    contact_email: str | None = None  # named in the User-Agent, as arXiv asks
    http_timeout_s: float = Field(default=30.0, gt=0)
    http_proxy: str | None = None
    arxiv_categories: list[str] = Field(
        default_factory=lambda: ["cs.LG", "cs.CL", "cs.CV", "cs.AI"]
    )
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    arxiv_rss_url: str = "https://rss.arxiv.org/rss"
    arxiv_oai_url: str = "https://oaipmh.arxiv.org/oai"
    arxiv_min_interval_s: float = Field(default=3.0, ge=0)  # arXiv's terms: one request per 3 s
    github_api_url: str = "https://api.github.com"
    github_token: str | None = None
    hf_api_url: str = "https://huggingface.co/api"
    # Worker schedule: HH:MM in UTC; intervals in hours. An empty time turns a job off.
    worker_tick_s: float = Field(default=30.0, gt=0, le=3600)  # how often a worker looks
    schedule_arxiv_new: str = "01:30"  # weekdays, after arXiv's 20:00 US-Eastern announcement
    schedule_hf_daily: str = "08:30"  # daily mirror of HF's feed for the day
    schedule_github_stars_hours: float = Field(default=6.0, ge=0)
    schedule_embed_new_hours: float = Field(default=1.0, ge=0)  # embed papers new since
    schedule_trending_minutes: float = Field(default=5.0, ge=0)  # store trending rankings
    # PostgreSQL: store the keyword index for new hosts to download (issue #11).
    schedule_keyword_snapshot_hours: float = Field(default=6.0, ge=0)
    admin_token: str | None = None  # enables /admin/* with HTTP Basic (user "admin")
    # Search (issue #4).
    # "minilm-int8-dynamic" (built in), "minilm-int8" (the same, float arithmetic) or
    # "sentence-transformers:<name or path>"
    embedding_model: str = "minilm-int8-dynamic"
    embedding_timeout_ms: float = Field(default=1000.0, gt=0)  # then keyword results only
    search_keyword_weight: float = Field(default=1.0, ge=0)
    search_semantic_weight: float = Field(default=1.0, ge=0)
    # Accounts (issue #5, docs/accounts.md).
    session_lifetime_days: float = Field(default=30.0, gt=0, le=400)
    password_min_length: int = Field(default=10, ge=8, le=128)
    rate_limit_signup: str = "5/hour"  # per client address; "off" turns a limit off
    rate_limit_login: str = "10/minute"  # per client address
    # Per account, from any address (issue #10): failures before the back-off, its longest lock.
    login_lockout_after: int = Field(default=5, ge=1, le=100)
    login_lockout_max_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    rate_limit_vote: str = "60/minute"  # per account
    rate_limit_comment: str = "10/minute"  # per account
    rate_limit_submit: str = "20/hour"  # per account
    rate_limit_subscribe: str = "10/hour"  # per client address (issue #6)
    # Submitting papers to the daily feed (issue #5); curators and admins are exempt.
    submission_max_age_days: int = Field(default=14, ge=1, le=3650)  # since first published
    submission_daily_cap: int = Field(default=3, ge=0, le=1000)  # per member and day
    # How long a submission waits for arXiv, and how many may wait at once (issue #10).
    submission_arxiv_deadline_s: float = Field(default=5.0, gt=0, le=60)
    submission_arxiv_lookups: int = Field(default=2, ge=1, le=16)  # per web process
    # Trending (issue #5, docs/trending.md): upvotes and star gains, halved every H hours.
    trending_half_life_hours: float = Field(default=48.0, gt=0, le=24 * 365)
    trending_star_weight: float = Field(default=0.1, ge=0, le=100)  # one star, in upvotes
    trending_new_account_days: float = Field(default=7.0, ge=0, le=365)  # 0: no discount
    trending_new_account_weight: float = Field(default=0.25, ge=0, le=1)
    # Stored rankings (issue #11): an out-of-date one is recomputed by a web process once it
    # is this old (one process at a time; the others serve it meanwhile).
    trending_max_stale_s: float = Field(default=10.0, ge=0, le=24 * 3600)

    @field_validator("smtp_local_hostname")
    @classmethod
    def _valid_ehlo_name(cls, value: str | None) -> str | None:
        if value and not _EHLO_NAME.fullmatch(value):
            raise ValueError(
                "PAPERTIDE_SMTP_LOCAL_HOSTNAME must be a domain name (mail.example.org) "
                "or an address literal ([192.0.2.1])"
            )
        return value

    @field_validator(
        "rate_limit_signup",
        "rate_limit_login",
        "rate_limit_vote",
        "rate_limit_comment",
        "rate_limit_submit",
        "rate_limit_subscribe",
    )
    @classmethod
    def _valid_rate(cls, value: str) -> str:
        Rate.parse(value)
        return value

    def rate(self, name: str) -> Rate:
        """The parsed `rate_limit_<name>` setting."""
        return Rate.parse(str(getattr(self, f"rate_limit_{name}")))

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.mode == "production" and self.secret_key == DEV_SECRET_KEY:
            raise ConfigError(
                "PAPERTIDE_SECRET_KEY is still the development default; set it to a long random "
                "value (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`) "
                "before running in production mode."
            )
        if len(self.secret_key) < 16:
            raise ConfigError("PAPERTIDE_SECRET_KEY must be at least 16 characters long.")
        self._check_claim_lease()
        return self

    def _check_claim_lease(self) -> None:
        lease, floor = self.digest_claim_lease_s, self.send_worst_case_s
        if lease is not None and lease < floor:
            raise ConfigError(
                f"PAPERTIDE_DIGEST_CLAIM_LEASE_S is {lease:g} s, shorter than one digest "
                f"message's worst case of {floor:g} s ({self._worst_case_terms()}): another "
                "sender could take over a message still being sent and send it twice. Raise "
                "it (or leave it unset), or lower PAPERTIDE_SMTP_TIMEOUT_S."
            )

    @property
    def send_worst_case_s(self) -> float:
        """The longest one digest message can take from its sender's last check that it still
        owns the delivery to the record of the outcome: every SMTP step of a reconnect timing
        out, the rate cap's longest wait, and waiting for the database (issue #10)."""
        return round(self._smtp_steps * self.smtp_timeout_s + self._rate_wait_s + RECORD_WAIT_S, 3)

    @property
    def _smtp_steps(self) -> int:
        return SMTP_STEPS[self.smtp_security] + (SMTP_AUTH_STEPS if self.smtp_username else 0)

    @property
    def _rate_wait_s(self) -> float:
        if not self.digest_max_per_second:
            return 0.0
        senders = self.digest_send_threads * self.digest_send_processes
        return senders / self.digest_max_per_second

    def _worst_case_terms(self) -> str:
        return (
            f"{self._smtp_steps} SMTP steps x PAPERTIDE_SMTP_TIMEOUT_S {self.smtp_timeout_s:g} s, "
            f"{self._rate_wait_s:g} s rate-cap wait, {RECORD_WAIT_S:g} s to record it"
        )

    @property
    def claim_lease_s(self) -> float:
        """PAPERTIDE_DIGEST_CLAIM_LEASE_S, or by default 300 s or one message's worst case,
        whichever is longer."""
        if self.digest_claim_lease_s is not None:
            return self.digest_claim_lease_s
        return max(DEFAULT_CLAIM_LEASE_S, self.send_worst_case_s)

    @property
    def ehlo_name(self) -> str:
        """The name this host gives in EHLO: smtp_local_hostname, else the From domain."""
        if self.smtp_local_hostname:
            return self.smtp_local_hostname
        domain = parseaddr(self.mail_from)[1].rpartition("@")[2]
        try:
            return domain.encode("idna").decode("ascii") if domain else "localhost"
        except UnicodeError:
            return "localhost"

    @property
    def user_agent(self) -> str:
        """The User-Agent for outgoing requests: names the software and, if set, a contact."""
        if self.http_user_agent:
            return self.http_user_agent
        base = f"Papertide/{__version__} (self-hosted research-paper feed"
        return f"{base}; mailto:{self.contact_email})" if self.contact_email else f"{base})"

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to one SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'papertide.db').resolve()}"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build Settings from an optional TOML file, the environment, then explicit overrides."""
    file_values: dict[str, Any] = {}
    if config_file is not None:
        try:
            file_values = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {config_file} does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {config_file} is not valid TOML: {exc}") from exc
    if not isinstance(file_values, dict):
        raise ConfigError(f"config file {config_file} must hold a table of settings")
    unknown = set(file_values) - set(Settings.model_fields)
    if unknown:
        raise ConfigError(f"config file {config_file} has unknown settings: {sorted(unknown)}")
    explicit = {k: v for k, v in overrides.items() if v is not None}
    # Init arguments outrank the environment in pydantic-settings, so only pass file values
    # the environment does not set: file < environment < explicit overrides.
    from_file = {k: v for k, v in file_values.items() if f"PAPERTIDE_{k.upper()}" not in os.environ}
    try:
        return Settings(**{**from_file, **explicit})
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def settings_environment(settings: Settings) -> dict[str, str]:
    """`PAPERTIDE_*` variables that rebuild `settings` in another process (lists as JSON)."""
    return {
        f"PAPERTIDE_{name.upper()}": value if isinstance(value, str) else json.dumps(value)
        for name, value in settings.model_dump(mode="json").items()
        if value is not None
    }

"""Settings from the environment (the DESIGN.md contract), with embedded defaults for a first run."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from flows.keywords import ACTIONS

INSTANCE = Path(__file__).resolve().parent / "instance"


def _durations_hours(value: str) -> int:
    return int(value.rstrip("h"))


def _checked_quiet_hours(value: str) -> str:
    """Fail at start-up, not at 20:00, when QUIET_HOURS is malformed."""
    from services.quiet_hours import parse_window

    try:
        parse_window(value)
    except ValueError as exc:
        raise ValueError(f"QUIET_HOURS must look like 20:00-07:00, not {value!r}") from exc
    return value


def _keywords(value: str) -> dict[str, tuple[str, ...]]:
    """'start=SUIVI,CHECK;help=INFO' adds synonyms to the default SMS keywords.

    An unknown action fails at start-up: a misspelt `stpo=FIN` would otherwise leave FIN an
    answer while the admin believes it opts out.
    """
    table: dict[str, tuple[str, ...]] = {}
    for part in filter(None, (p.strip() for p in value.split(";"))):
        action, _, words = (text.strip() for text in part.partition("="))
        if action not in ACTIONS:
            raise ValueError(f"SMS_KEYWORDS: '{action}' is not one of {', '.join(ACTIONS)}")
        table[action] = tuple(w.strip() for w in words.split(",") if w.strip())
    return table


SECRET_FIELDS = frozenset({"at_api_key", "secret_key", "webhook_token"})
URL_FIELDS = frozenset({"database_url", "redis_url", "at_api_url"})


@dataclass(frozen=True, repr=False)
class Settings:
    """The configuration; its repr hides secrets and URL passwords, since settings get logged."""

    database_url: str
    redis_url: str
    at_username: str
    at_api_key: str
    at_sender_id: str | None
    at_api_url: str | None
    webhook_token: str | None
    timezone: str
    quiet_hours: str
    digest_at: str
    secret_key: str
    resume_hours: int
    transliterate: tuple[str, ...]
    at_batch_size: int
    at_timeout: float
    sms_keywords: dict[str, tuple[str, ...]]
    ussd_code: str = "*384*123#"
    """What workers dial, quoted in invitations and reminders."""
    daily_sms_limit: int = 3
    """Messages the service starts for one person in one local day (replies and alerts aside)."""
    trusted_proxies: int = 0
    """Reverse proxies to believe about the client's address and HTTPS (the admin console)."""

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={self._shown(f.name)!r}" for f in fields(self))
        return f"Settings({shown})"

    def _shown(self, name: str) -> object:
        value = getattr(self, name)
        if name in SECRET_FIELDS and value:
            return "<hidden>"
        if name in URL_FIELDS and value:
            return without_password(value)
        return value

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        return cls(
            database_url=_database_url(env.get("DATABASE_URL")),
            redis_url=env.get("REDIS_URL") or "redis://localhost:6379/0",
            at_username=env.get("AT_USERNAME") or "sandbox",
            at_api_key=env.get("AT_API_KEY") or "",
            at_sender_id=env.get("AT_SENDER_ID") or None,
            at_api_url=env.get("AT_API_URL") or None,
            webhook_token=env.get("WEBHOOK_TOKEN") or None,
            timezone=env.get("TIMEZONE") or "Africa/Bamako",
            quiet_hours=_checked_quiet_hours(env.get("QUIET_HOURS", "20:00-07:00")),
            digest_at=env.get("DIGEST_AT") or "mon 07:00",
            secret_key=env.get("SECRET_KEY") or "",
            resume_hours=_durations_hours(env.get("RESUME_WINDOW") or "24h"),
            transliterate=tuple((env.get("TRANSLITERATE", "bm")).replace(",", " ").split()),
            at_batch_size=int(env.get("AT_BATCH_SIZE") or 500),
            at_timeout=float(env.get("AT_TIMEOUT") or 10),
            sms_keywords=_keywords(env.get("SMS_KEYWORDS", "")),
            ussd_code=env.get("USSD_CODE") or "*384*123#",
            daily_sms_limit=int(env.get("DAILY_SMS_LIMIT") or 3),
            trusted_proxies=int(env.get("TRUSTED_PROXIES") or 0),
        )


def without_password(url: str) -> str:
    """The URL with the password in its user part masked, for logs and reprs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def _database_url(url: str | None) -> str:
    """Heroku-style postgres:// URLs and the psycopg 3 driver; SQLite under instance/ by default."""
    if not url:
        INSTANCE.mkdir(exist_ok=True)
        return f"sqlite:///{INSTANCE / 'qi.sqlite3'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url

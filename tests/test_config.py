"""Settings from the environment: no secret in their repr, misconfiguration refused at start-up."""

from __future__ import annotations

import logging

import pytest

from config import Settings, without_password

SECRETS = {
    "AT_API_KEY": "atsk_0123456789abcdef",
    "SECRET_KEY": "a-long-random-session-key",
    "WEBHOOK_TOKEN": "gateway-token-42",
    "DATABASE_URL": "postgresql://qi:db-password-7@db.example:5432/qi",
    "REDIS_URL": "redis://:redis-password-9@cache.example:6379/0",
}
HIDDEN = ["atsk_0123456789abcdef", "a-long-random-session-key", "gateway-token-42"]
HIDDEN += ["db-password-7", "redis-password-9"]


def test_the_repr_shows_no_key_token_or_password():
    settings = Settings.from_env(SECRETS)

    shown = repr(settings)

    for secret in HIDDEN:
        assert secret not in shown
    assert str(settings) == shown
    assert "at_api_key='<hidden>'" in shown
    assert "database_url='postgresql+psycopg://qi:***@db.example:5432/qi'" in shown
    assert "redis_url='redis://:***@cache.example:6379/0'" in shown


def test_the_secrets_themselves_are_still_there_for_the_code_that_needs_them():
    settings = Settings.from_env(SECRETS)

    assert settings.at_api_key == "atsk_0123456789abcdef"
    assert settings.database_url == "postgresql+psycopg://qi:db-password-7@db.example:5432/qi"


def test_settings_logged_by_mistake_leak_nothing(caplog):
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("qi.test").info("starting with %s", Settings.from_env(SECRETS))

    for secret in HIDDEN:
        assert secret not in caplog.text


def test_unset_secrets_show_as_unset():
    shown = repr(Settings.from_env({}))

    assert "at_api_key=''" in shown
    assert "webhook_token=None" in shown


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:p@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("sqlite:////srv/qi.sqlite3", "sqlite:////srv/qi.sqlite3"),
        ("redis://:p@h:6379/0", "redis://:***@h:6379/0"),
    ],
)
def test_a_url_loses_only_its_password(url, shown):
    assert without_password(url) == shown


def test_sms_keywords_add_synonyms_to_known_actions():
    settings = Settings.from_env({"SMS_KEYWORDS": "start=SUIVI, CHECK ; help=INFO"})

    assert settings.sms_keywords == {"start": ("SUIVI", "CHECK"), "help": ("INFO",)}


def test_an_sms_keyword_for_an_unknown_action_is_refused_at_start_up():
    with pytest.raises(ValueError, match="SMS_KEYWORDS: 'stpo' is not one of start, stop"):
        Settings.from_env({"SMS_KEYWORDS": "stpo=FIN"})

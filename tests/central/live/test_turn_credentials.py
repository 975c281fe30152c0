"""Minting time-limited TURN credentials (central.live.turn_credentials: the TURN REST API that coturn
checks with use-auth-secret) and the settings that name coturn and its secret. coturn itself accepting
and refusing them is tests/deploy/test_turn_relay.py; the API handing them out, test_turn_api.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from central.core.config import Settings
from central.live.turn_credentials import LiveIce, mint_credential, page_label, view_label

SECRET = "north-hall-turn-secret-0123456789abcdef"
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
TURN_URLS = ["turn:turn.example.invalid:3478?transport=udp", "turns:turn.example.invalid:5349?transport=tcp"]
STUN = {"urls": ["stun:stun.example.invalid:3478"]}


def rest_api_credential(secret: str, username: str) -> str:
    """draft-uberti-behave-turn-rest-00 §2.2: password = base64(HMAC-SHA1(secret, username))."""
    return base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()


def test_a_credential_is_the_expiry_and_label_and_their_hmac() -> None:
    minted = mint_credential(secret=SECRET, label="u42.page", now=NOW, lifetime=timedelta(hours=1))
    assert minted.username == "1795748400:u42.page", "2026-11-27 03:00 UTC in Unix seconds, then the label"
    assert minted.credential == rest_api_credential(SECRET, "1795748400:u42.page")
    # the same vector by another implementation: printf %s USERNAME | openssl dgst -sha1 -hmac SECRET -binary | base64
    assert minted.credential == "w+g/uHjK828PpHkt2uF64NyOPAk="
    assert minted.expires_at == NOW + timedelta(hours=1)
    assert minted.credential not in repr(minted), "a credential is never printed"


def test_the_expiry_is_whole_seconds_of_now_plus_the_lifetime_in_any_zone() -> None:
    shanghai = NOW.astimezone(ZoneInfo("Asia/Shanghai")) + timedelta(microseconds=999_999)
    minted = mint_credential(secret=SECRET, label="x", now=shanghai, lifetime=timedelta(minutes=5))
    assert minted.username == "1795745100:x", "the second the moment falls in, plus 300 s"
    assert minted.expires_at == NOW + timedelta(minutes=5)


def test_each_label_and_each_moment_gets_its_own_credential() -> None:
    hour = timedelta(hours=1)
    one = mint_credential(
        secret=SECRET, label=view_label(user_id=42, viewer="a" * 32), now=NOW, lifetime=hour
    )
    other = mint_credential(
        secret=SECRET, label=view_label(user_id=42, viewer="b" * 32), now=NOW, lifetime=hour
    )
    later = mint_credential(
        secret=SECRET,
        label=view_label(user_id=42, viewer="a" * 32),
        now=NOW + timedelta(seconds=1),
        lifetime=hour,
    )
    assert one.username == f"1795748400:u42.{'a' * 32}", "the label names the user and the view"
    assert len({one.credential, other.credential, later.credential}) == 3
    assert page_label(user_id=42) == "u42.page"


@pytest.mark.parametrize("label", ["", "u1:page", "u 1", "视图", "x" * 101])
def test_a_label_coturn_would_misread_is_refused(label: str) -> None:
    with pytest.raises(ValueError, match="label"):
        mint_credential(secret=SECRET, label=label, now=NOW, lifetime=timedelta(hours=1))


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        mint_credential(secret=SECRET, label="x", now=NOW.replace(tzinfo=None), lifetime=timedelta(hours=1))


def turn_settings(**more: Any) -> Settings:
    return Settings(live_turn_urls=TURN_URLS, live_turn_secret=SECRET, **more)


def test_central_hands_out_the_static_servers_then_coturn_with_minted_credentials(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ice = LiveIce.from_settings(turn_settings(live_ice_servers=[STUN], live_turn_lifetime_seconds=1800))
    with caplog.at_level(logging.DEBUG, logger="central.live.turn_credentials"):
        stun, turn = ice.servers(label="u7.page", now=NOW)
    assert stun.model_dump(exclude_none=True) == STUN, "a static server goes out as it is"
    assert turn.urls == TURN_URLS
    assert turn.username == "1795746600:u7.page", "half an hour: HALLWATCH_LIVE_TURN_LIFETIME_SECONDS"
    assert turn.credential == rest_api_credential(SECRET, "1795746600:u7.page")
    assert ice.refresh_after_seconds == 900, "fetched again at half the lifetime"
    assert "1795746600:u7.page" in caplog.text, "the log names what was minted"
    assert turn.credential not in caplog.text, "never the credential"
    assert SECRET not in caplog.text + repr(ice), "never the secret"


def test_without_a_turn_secret_only_the_static_servers_go_out_and_nothing_expires() -> None:
    ice = LiveIce.from_settings(Settings(live_ice_servers=[STUN]))
    assert [s.model_dump(exclude_none=True) for s in ice.servers(label="u7.page", now=NOW)] == [STUN]
    assert ice.refresh_after_seconds is None
    assert LiveIce.from_settings(Settings()).servers(label="u7.page", now=NOW) == []


@pytest.mark.parametrize(
    ("values", "said"),
    [
        (
            {"live_turn_secret": SECRET},
            "set HALLWATCH_LIVE_TURN_SECRET and HALLWATCH_LIVE_TURN_URLS together",
        ),
        (
            {"live_turn_urls": TURN_URLS},
            "set HALLWATCH_LIVE_TURN_SECRET and HALLWATCH_LIVE_TURN_URLS together",
        ),
        (
            {"live_turn_urls": ["stun:turn.example.invalid"], "live_turn_secret": SECRET},
            "not a turn:/turns: URL",
        ),
        (
            {"live_turn_urls": ["https://turn.example.invalid"], "live_turn_secret": SECRET},
            "not a turn:/turns: URL",
        ),
        ({"live_turn_urls": TURN_URLS, "live_turn_secret": "short-secret"}, "at least 32"),
        (
            {"live_turn_urls": TURN_URLS, "live_turn_secret": "a secret with spaces 0123456789abc"},
            "without spaces",
        ),
        ({"live_turn_urls": TURN_URLS * 3, "live_turn_secret": SECRET}, "at most 4"),
        ({"live_turn_urls": TURN_URLS, "live_turn_secret": SECRET, "live_turn_lifetime_seconds": 299}, "300"),
        (
            {"live_turn_urls": TURN_URLS, "live_turn_secret": SECRET, "live_turn_lifetime_seconds": 86_401},
            "86400",
        ),
        (
            {"live_turn_urls": TURN_URLS, "live_turn_secret": SECRET, "live_ice_servers": [STUN] * 8},
            "make 9 ICE servers: at most 8",
        ),
    ],
)
def test_turn_settings_that_do_not_fit_are_refused_saying_why(values: dict[str, Any], said: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**values)
    assert said in str(refused.value)
    assert SECRET not in str(refused.value), "a refused setting never echoes the secret"


def test_the_turn_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALLWATCH_LIVE_TURN_URLS", '["turn:turn.example.invalid:3478"]')
    monkeypatch.setenv("HALLWATCH_LIVE_TURN_SECRET", SECRET)
    monkeypatch.setenv("HALLWATCH_LIVE_TURN_LIFETIME_SECONDS", "600")
    settings = Settings()
    assert settings.live_turn_urls == ["turn:turn.example.invalid:3478"]
    assert settings.live_turn_secret is not None
    assert settings.live_turn_secret.get_secret_value() == SECRET
    assert settings.live_turn_lifetime_seconds == 600
    assert SECRET not in repr(settings), "the settings never print the secret"

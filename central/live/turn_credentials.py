"""Time-limited TURN credentials for live view (issue #20): the "TURN REST API" of
draft-uberti-behave-turn-rest-00, which coturn checks with `use-auth-secret` and `static-auth-secret`
(deploy/coturn/turnserver.conf). Central and coturn share one secret and nothing else: the username
is `{expiry in Unix seconds}:{label}` and the credential base64(HMAC-SHA1(secret, username)), so
coturn verifies it and refuses it after its expiry without asking central. The label is only for
coturn's log (the user, and the view). coturn checks the expiry when a relay is opened; a relay
opened in time lives as long as the view keeps it.

Never log a credential: only its username."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from central.core.config import IceServerSetting, Settings

logger = logging.getLogger(__name__)

LABEL = re.compile(r"[A-Za-z0-9._-]{1,100}")  # what coturn takes in a username, and no separator


@dataclass(frozen=True)
class TurnCredential:
    username: str
    credential: str = field(repr=False)
    expires_at: datetime


def mint_credential(*, secret: str, label: str, now: datetime, lifetime: timedelta) -> TurnCredential:
    """A credential that coturn accepts for new relays until `now + lifetime` (whole seconds)."""
    if not LABEL.fullmatch(label):
        raise ValueError(f"a TURN credential's label is 1..100 of [A-Za-z0-9._-], not {label[:40]!r}")
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    expiry = int(now.timestamp()) + int(lifetime.total_seconds())
    username = f"{expiry}:{label}"
    digest = hmac.new(secret.encode("utf-8"), username.encode("utf-8"), hashlib.sha1).digest()
    return TurnCredential(
        username=username,
        credential=base64.b64encode(digest).decode("ascii"),
        expires_at=datetime.fromtimestamp(expiry, UTC),
    )


@dataclass(frozen=True)
class LiveIce:
    """The ICE servers central hands to live view: the static ones of HALLWATCH_LIVE_ICE_SERVERS as
    they are, then the TURN server of HALLWATCH_LIVE_TURN_URLS with credentials minted per use."""

    static: tuple[IceServerSetting, ...] = ()
    turn_urls: tuple[str, ...] = ()
    secret: SecretStr | None = field(default=None, repr=False)
    lifetime: timedelta = timedelta(hours=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> LiveIce:
        return cls(
            static=tuple(settings.live_ice_servers),
            turn_urls=tuple(settings.live_turn_urls),
            secret=settings.live_turn_secret,
            lifetime=timedelta(seconds=settings.live_turn_lifetime_seconds),
        )

    @property
    def minted(self) -> bool:
        return self.secret is not None and bool(self.turn_urls)

    @property
    def refresh_after_seconds(self) -> int | None:
        """When a holder should ask again: at half the lifetime, so what it holds is never near its
        end when it opens a relay. None: nothing minted, nothing expires."""
        return int(self.lifetime.total_seconds()) // 2 if self.minted else None

    def servers(self, *, label: str, now: datetime) -> list[IceServerSetting]:
        servers = list(self.static)
        if self.secret is None or not self.turn_urls:
            return servers
        minted = mint_credential(
            secret=self.secret.get_secret_value(), label=label, now=now, lifetime=self.lifetime
        )
        logger.debug("minted TURN credentials %s", minted.username)
        turn = IceServerSetting(
            urls=list(self.turn_urls), username=minted.username, credential=minted.credential
        )
        return [*servers, turn]


def view_label(*, user_id: int, viewer: str) -> str:
    """The label of one view's credentials (the hall's agent's, and the answer's): coturn's log then
    names the user and the view (live_views.viewer, the audit entry's target)."""
    return f"u{user_id}.{viewer}"


def page_label(*, user_id: int) -> str:
    """The label of the credentials a console page gives its browser before any view exists."""
    return f"u{user_id}.page"

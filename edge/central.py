"""Talking to central: the device key, keep-alive HTTP clients for uploads and commands, and the
clock kept to central's (`ClockSync`)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from common.device_channel import OUTBOX_HEADER, OutboxReport
from edge.clock import CentralTime
from edge.config import CentralConfig

logger = logging.getLogger(__name__)

OBSERVATIONS_PATH = "/api/v1/device/observations"
COMMANDS_PATH = "/api/v1/device/commands"
ME_PATH = "/api/v1/device/me"
TIME_PATH = "/api/v1/device/time"
CLOCK_HEADER = "X-Device-Clock"
REPLIES_PATH = "/api/v1/device/replies"
RETRY_SYNC_S = 10.0  # after a failed exchange, ask again this soon (or at the interval, if shorter)
USER_AGENT = "hallwatch-edge/0.1"


class EdgeKeyError(RuntimeError):
    """No usable device key: the message says where it was looked for."""


def resolve_key(central: CentralConfig) -> str:
    """The device key from `key_file` if given, else from the environment variable `key_env`."""
    if central.key_file is not None:
        try:
            key = central.key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise EdgeKeyError(f"cannot read the device key file {central.key_file}: {exc.strerror}") from exc
        where = f"the file {central.key_file}"
    else:
        key = os.environ.get(central.key_env, "").strip()
        where = f"the environment variable {central.key_env}"
    if not key:
        raise EdgeKeyError(f"no device key in {where}; issue one with `POST /api/v1/devices/{{code}}/keys`")
    if not key.isascii() or any(c.isspace() for c in key):
        raise EdgeKeyError(f"the device key in {where} has spaces or non-ASCII characters")
    return key


def make_client(central: CentralConfig, key: str, *, read_timeout: float | None = None) -> httpx.Client:
    """A keep-alive client for central: base URL, key header, timeouts (a long poll adds its wait)."""
    timeout = httpx.Timeout(
        read_timeout if read_timeout is not None else central.request_timeout_seconds,
        connect=central.connect_timeout_seconds,
    )
    return httpx.Client(
        base_url=str(central.url).rstrip("/"),
        headers={"X-Device-Key": key, "User-Agent": USER_AGENT},
        timeout=timeout,
        limits=httpx.Limits(max_connections=2, max_keepalive_connections=2),
        follow_redirects=False,
    )


def check_identity(client: httpx.Client, hall: str) -> str | None:
    """Ask central whom the key belongs to; log loudly when it is another hall's key or refused.

    Answers the key's hall, or None when central could not be asked (it is checked again on the next
    start; the uploader keeps everything meanwhile).
    """
    try:
        response = client.get(ME_PATH)
    except httpx.HTTPError as exc:
        logger.warning("could not ask central who this key is (%s); going on", exc)
        return None
    if response.status_code == 401:
        logger.error("central refuses this device key (401): nothing will be uploaded until it is replaced")
        return None
    if response.status_code != 200:
        logger.warning("central answered %d to %s; going on", response.status_code, ME_PATH)
        return None
    try:
        key_hall = str(response.json()["hall"])
        device = str(response.json()["device"])
    except (ValueError, KeyError, TypeError):
        logger.warning("central's answer to %s is not understood; going on", ME_PATH)
        return None
    if key_hall != hall:
        logger.error(
            "this key belongs to device %s of hall %s, but the config says hall %s: "
            "central will reject this hall's windows",
            device,
            key_hall,
            hall,
        )
    else:
        logger.info("central knows this agent as device %s of hall %s", device, key_hall)
    return key_hall


class ClockSync:
    """A thread that measures the edge clock against central's every `every_seconds` (`edge.clock`).
    Each request also tells central the box's own clock and, given `outbox`, the outbox's disk state
    (`X-Device-Outbox`): the one report of it that reaches central while the agent long-polls."""

    def __init__(
        self,
        client: httpx.Client,
        time: CentralTime,
        *,
        every_seconds: float,
        outbox: Callable[[], OutboxReport | None] | None = None,
    ) -> None:
        self.client, self.time, self.every_seconds = client, time, every_seconds
        self.outbox = outbox
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="edge-clock", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def sync_once(self) -> bool:
        """One exchange; answers whether central answered (whether or not the offset changed)."""
        report = self.outbox() if self.outbox is not None else None
        sent = self.time.base()
        # The box's own clock, for central to see how far off it is (hallwatch doctor names it).
        headers = {CLOCK_HEADER: sent.isoformat()}
        if report is not None:
            headers[OUTBOX_HEADER] = report.model_dump_json()
        try:
            response = self.client.get(TIME_PATH, headers=headers)
            received = self.time.base()
            response.raise_for_status()
            central = datetime.fromisoformat(str(response.json()["now"]))
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            logger.info("could not ask central for its time (%s); will ask again", exc)
            return False
        if central.tzinfo is None:
            logger.warning("central's time %s has no zone; ignored", central)
            return False
        self.time.observe(sent=sent, received=received, central=central)
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            answered = self.sync_once()
            self._stop.wait(self.every_seconds if answered else min(self.every_seconds, RETRY_SYNC_S))


def post_reply(client: httpx.Client, command_id: int, body: dict[str, Any]) -> bool:
    """Send a command's reply by HTTP (the channel's `reply` is the fast way; this one works while the
    agent long-polls); False when central did not take it."""
    try:
        response = client.post(REPLIES_PATH, json={"command_id": command_id, "body": body})
    except httpx.HTTPError as exc:
        logger.warning("reply to command %d not sent: %s", command_id, exc)
        return False
    if response.status_code != 204:
        logger.warning(
            "central refused the reply to command %d: %d %s",
            command_id,
            response.status_code,
            response.text[:200],
        )
        return False
    return True

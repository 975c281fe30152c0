"""Talking to central: the device key, and keep-alive HTTP clients for uploads and commands."""

from __future__ import annotations

import logging
import os

import httpx

from edge.config import CentralConfig

logger = logging.getLogger(__name__)

OBSERVATIONS_PATH = "/api/v1/device/observations"
COMMANDS_PATH = "/api/v1/device/commands"
ME_PATH = "/api/v1/device/me"
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

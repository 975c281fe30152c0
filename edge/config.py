"""The edge agent's configuration (one YAML file per hall under camera_configs/), as strict pydantic models.

Every model forbids unknown keys (a typo is an error, never a silent default); defaults and bounds live
on the fields. Checks that need more than one field are `verify_*` functions returning findings; each
model calls its own from one `model_validator` (Frigate style), so every finding is reported at the
field it concerns. Reading a file, with YAML line numbers for every problem, is in `edge/configfile.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

from common.config_fields import ENV_NAME_PATTERN
from common.display_config import DisplayConfig
from edge.config_checks import (
    CODE_PATTERN,
    Code40,
    Finding,
    raise_findings,
    verify_unique,
)
from edge.live.config import LiveConfig
from edge.video.config import (
    AnalysisConfig,
    CameraConfig,
    WindowConfig,
    verify_window_cameras,
)
from rating_device.protocol import DEFAULT_BAUDRATE, STANDARD_BAUDRATES, baudrate_problem

logger = logging.getLogger(__name__)

DEFAULT_KEY_ENV = "HALLWATCH_EDGE_KEY"

# A press id is f"{keypad}:{seq}:{uptime_ms}": 40 + 1 + 5 + 1 + 10 characters fit central's 64.
KeypadName = Annotated[str, Field(min_length=1, max_length=40, pattern=CODE_PATTERN)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class CentralConfig(_Section):
    url: AnyHttpUrl = Field(..., description="Base URL of central, e.g. https://hallwatch.example.gov.cn")
    key_env: str = Field(
        DEFAULT_KEY_ENV,
        pattern=ENV_NAME_PATTERN,
        max_length=100,
        description="Environment variable holding this edge agent's device key (X-Device-Key).",
    )
    key_file: Path | None = Field(
        None,
        description="File holding the device key instead (one line); keep it readable by the agent only.",
    )
    connect_timeout_seconds: float = Field(5.0, gt=0, le=60, description="TCP/TLS connect timeout.")
    request_timeout_seconds: float = Field(
        30.0, gt=0, le=300, description="Read/write timeout of one upload (a timeout means: send again)."
    )
    poll_wait_seconds: int = Field(
        25, ge=0, le=30, description="Long-poll wait for commands (central answers at once when one is due)."
    )
    channel: Literal["websocket", "long_poll"] = Field(
        "websocket",
        description="How commands reach this agent: a WebSocket to central (falls back to the long-poll "
        "while the upgrade is refused, e.g. by an older central or a proxy), or the long-poll only.",
    )
    heartbeat_seconds: float = Field(
        20.0,
        ge=1,
        le=300,
        description="The channel pings central this often; no answer within as long again: reconnect. "
        "Keep it below half of central's device_channel_idle_seconds.",
    )
    # 15, not 30: the reopened channel is what tells the uploader central is back (Uploader.nudge), and
    # a province's ~200 agents retrying every 15 s is nothing to a proxy.
    reconnect_max_seconds: float = Field(
        15.0, ge=0.1, le=600, description="Longest wait between channel reconnects (jittered, doubling)."
    )
    fallback_after_refusals: int = Field(
        3, ge=1, le=100, description="Refused WebSocket upgrades in a row before long-polling instead."
    )
    fallback_seconds: float = Field(
        300.0, ge=1, le=24 * 3600, description="How long to long-poll before trying the WebSocket again."
    )
    clock_sync_seconds: float = Field(
        60.0,
        ge=0,
        le=3600,
        description="How often the agent measures its clock against central's and corrects its stamps; "
        "0: never (the box's own clock is trusted as it is).",
    )

    @model_validator(mode="after")
    def _verify(self) -> Self:
        raise_findings(verify_one_key_source(self))
        return self


def verify_one_key_source(central: CentralConfig) -> list[Finding]:
    if central.key_file is not None and "key_env" in central.model_fields_set:
        return [Finding(("key_file",), "give key_env or key_file, not both")]
    return []


class OutboxConfig(_Section):
    path: Path = Field(
        Path("var") / "edge-outbox.db", description="SQLite file of the outbox (relative to the working dir)."
    )
    batch_size: int = Field(
        2000,
        ge=1,
        le=100_000,
        description=(
            "Most observations per upload (central's max_batch_events caps it). Each upload has a "
            "fixed cost at central (authentication, the hall's profile, windows, audit, commit): "
            "2,000 drains a backlog about a sixth faster than 1,000, and more gains little."
        ),
    )
    batch_max_bytes: int = Field(
        8 * 1024 * 1024,
        ge=64 * 1024,
        le=256 * 1024 * 1024,
        description="Most bytes of observations per upload (evidence snapshots are large); one row always goes.",
    )
    initial_backoff_seconds: float = Field(0.5, gt=0, le=60, description="First wait after a failed upload.")
    max_backoff_seconds: float = Field(
        30.0, gt=0, le=3600, description="Longest wait between retries while central is unreachable."
    )
    drain_on_stop_seconds: float = Field(
        10.0,
        ge=0,
        le=300,
        description="On SIGTERM the agent uploads what is pending for at most this long before it "
        "exits (what is left stays on disk and goes at the next start).",
    )
    retain_delivered_hours: float = Field(
        168.0,
        ge=0,
        le=24 * 366,
        description="Delivered rows are kept this long (for inspection), then pruned.",
    )
    reserve_mb: float = Field(
        256.0,
        ge=0,
        le=1_000_000,
        description="Free space kept for the small observations: while the outbox's disk has less "
        "than this free, evidence snapshots and patrol clips are refused (logged as an error, "
        "counted); keypad presses and reports still go in.",
    )
    spare_mb: float = Field(
        16.0,
        ge=0,
        le=4096,
        description="A file of this size kept beside the outbox and given back when the disk is full, "
        "so what is stored keeps draining to central (delivery marks need a little disk too).",
    )

    @model_validator(mode="after")
    def _verify(self) -> Self:
        raise_findings(verify_backoff_order(self))
        return self


def verify_backoff_order(outbox: OutboxConfig) -> list[Finding]:
    if outbox.initial_backoff_seconds > outbox.max_backoff_seconds:
        return [
            Finding(
                ("initial_backoff_seconds",),
                f"initial_backoff_seconds ({outbox.initial_backoff_seconds:g}) is more than "
                f"max_backoff_seconds ({outbox.max_backoff_seconds:g})",
            )
        ]
    return []


class KeypadConfig(_Section):
    name: KeypadName = Field(
        ..., description="The keypad's code (its registry device code); unique in the file."
    )
    port: str = Field(
        ...,
        min_length=1,
        max_length=400,
        description="Serial port path; prefer a stable one such as /dev/serial/by-id/…",
    )
    window: Code40 = Field(..., description="Code of the window the keypad stands at; one keypad per window.")
    baudrate: int = Field(
        DEFAULT_BAUDRATE, description=f"Line speed, one of {', '.join(map(str, STANDARD_BAUDRATES))}."
    )
    reconnect_max_seconds: float = Field(
        10.0, gt=0, le=300, description="Longest wait between attempts to reopen a lost port."
    )
    health_every_seconds: float = Field(
        60.0, ge=1, le=3600, description="Health is reported on every change and at least this often."
    )
    offline_after_seconds: float = Field(
        15.0, ge=1, le=600, description="Silence (no frame, no heartbeat) after which the keypad is offline."
    )

    @model_validator(mode="after")
    def _verify(self) -> Self:
        raise_findings(verify_baudrate(self))
        return self


def verify_baudrate(keypad: KeypadConfig) -> list[Finding]:
    problem = baudrate_problem(keypad.baudrate)
    return [Finding(("baudrate",), problem)] if problem else []


class EdgeConfig(_Section):
    hall: Code40 = Field(..., description="Code of the hall this edge agent serves (its key's hall).")
    profile: str = Field(
        "sichuan-2011",
        pattern=r"^[a-z0-9][a-z0-9-]{1,62}$",
        description="Rule profile whose presence section gives the windows' default hours and thresholds.",
    )
    central: CentralConfig
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
    keypads: list[KeypadConfig] = Field(default_factory=list, max_length=500)
    cameras: list[CameraConfig] = Field(default_factory=list, max_length=200)
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)
    windows: list[WindowConfig] = Field(default_factory=list, max_length=500)
    displays: list[DisplayConfig] = Field(
        default_factory=list,
        max_length=100,
        description="The hall's displays; each is run by its own display agent (`hallwatch display run`), "
        "the edge agent only validates them.",
    )
    live: LiveConfig | None = Field(
        None,
        description="Live view of the cameras over WebRTC (edge.live); none: no live view. "
        "`live: {}` publishes with the defaults.",
    )

    @model_validator(mode="after")
    def _verify(self) -> Self:
        raise_findings([*verify_profile_known(self.profile), *verify_sections(self.model_dump())])
        return self

    def keypad_for_window(self, window: str) -> KeypadConfig | None:
        return next((k for k in self.keypads if k.window == window), None)


def verify_profile_known(key: str) -> list[Finding]:
    from common.profiles.loader import shipped_profiles  # the profiles are YAML in the package

    known = shipped_profiles()
    if key in known:
        return []
    return [Finding(("profile",), f"unknown rule profile {key!r}; known: {', '.join(sorted(known))}")]


def verify_sections(data: Mapping[str, Any]) -> list[Finding]:
    """Checks across entries: unique names, ports and windows, and windows naming a known camera.

    Takes the raw file data too (see `edge.config_checks`)."""
    keypads, cameras, windows, displays = (
        _entries(data, key) for key in ("keypads", "cameras", "windows", "displays")
    )
    return [
        *verify_keypads(keypads),
        *verify_unique(cameras, "cameras", "name"),
        *verify_unique(windows, "windows", "name"),
        *verify_unique(displays, "displays", "name"),
        *verify_window_cameras(windows, cameras),
    ]


def _entries(data: Mapping[str, Any], key: str) -> list[Any]:
    entries = data.get(key)
    return [e if isinstance(e, Mapping) else {} for e in entries] if isinstance(entries, list) else []


def verify_keypads(keypads: Sequence[KeypadConfig | Mapping[str, Any]]) -> list[Finding]:
    return [
        *verify_unique(keypads, "keypads", "name"),
        *verify_unique(keypads, "keypads", "window"),
        *verify_unique(keypads, "keypads", "port"),
    ]


def load_edge_config(path: Path) -> EdgeConfig:
    """Read and validate a config file; `edge.configfile.EdgeConfigError` lists every problem and line."""
    from edge.configfile import load_edge_config as load  # the file reader imports these models

    return load(path)

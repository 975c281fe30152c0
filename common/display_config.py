"""A hall display's section of the hall config (`displays:` in camera_configs/*.yaml), Frigate style.

One schema for both readers: the edge agent validates every display entry with the rest of the file
(and ignores them otherwise); the display agent (hall_display) reads the one it runs. Defaults and
bounds live on the fields; checks across fields are `verify_*` functions called from one validator.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.config_fields import ENV_NAME_PATTERN, Code40
from common.findings import Finding, raise_findings

logger = logging.getLogger(__name__)

DisplayKind = Literal["led", "tv", "kiosk"]
DEFAULT_DISPLAY_KEY_ENV = "HALLWATCH_DISPLAY_KEY"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class LedConfig(_Section):
    """A synchronous LED screen: its controller mirrors a region of the display PC's screen, from the
    top left corner, pixel for pixel (common sizes 192×32, 384×64, 768×96)."""

    width: int = Field(384, ge=32, le=4096, description="The LED screen's width in pixels.")
    height: int = Field(64, ge=8, le=1024, description="The LED screen's height in pixels.")
    speed_px_per_second: float = Field(
        60.0, gt=0, le=2000, description="How fast the marquee scrolls, in pixels per second."
    )
    font_px: int | None = Field(
        None, ge=6, le=1024, description="Text size in pixels; default: from the height (one line fills it)."
    )

    @model_validator(mode="after")
    def _verify(self) -> Self:
        raise_findings(verify_font_fits(self))
        return self


def verify_font_fits(led: LedConfig) -> list[Finding]:
    if led.font_px is not None and led.font_px > led.height:
        return [Finding(("font_px",), f"font_px ({led.font_px}) is more than the height ({led.height})")]
    return []


class KioskConfig(_Section):
    idle_seconds: int = Field(
        60,
        ge=10,
        le=3600,
        description="Untouched this long, the kiosk goes back to its start page (forgetting what was typed).",
    )
    complaints: bool = Field(
        True,
        description="Offer 我要投诉 on the kiosk: complaints sent to central through the display agent, "
        "with its device key.",
    )
    complaint_status_url: str | None = Field(
        None,
        max_length=300,
        pattern=r"^https?://[^\s]+$",
        description="Where citizens check a complaint, shown with its number and password; default: "
        "central's URL + /complaints/status (set it when central's public address differs).",
    )


class BrowserConfig(_Section):
    launch: bool = Field(
        False, description="Start Chromium in kiosk mode at the display's page (and restart it)."
    )
    executable: Path | None = Field(
        None,
        description="The browser to start; default: chromium, chromium-browser or google-chrome on PATH.",
    )
    extra_args: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="More Chromium switches, e.g. --force-device-scale-factor=1 or --disable-gpu.",
    )

    @model_validator(mode="after")
    def _verify(self) -> Self:
        raise_findings(verify_switches(self.extra_args))
        return self


def verify_switches(args: list[str]) -> list[Finding]:
    """A word without `--` would be opened as a second page."""
    return [
        Finding(("extra_args", index), f"{arg!r} is not a switch: each starts with --")
        for index, arg in enumerate(args)
        if not arg.startswith("--") or len(arg) > 1000
    ]


class DisplayConfig(_Section):
    name: Code40 = Field(
        ..., description="The display's code (its registry device code); unique in the file."
    )
    kind: DisplayKind = Field("tv", description="led: LED marquee; tv: progress board; kiosk: touchscreen.")
    url: str | None = Field(
        None,
        max_length=1000,
        pattern=r"^https?://",
        description="The page the browser opens; default: this display agent's own page for its kind.",
    )
    listen_host: str = Field(
        "127.0.0.1",
        min_length=1,
        max_length=253,
        pattern=r"^[A-Za-z0-9.:\-]+$",
        description="Where the display agent serves the pages: loopback unless another machine's "
        "browser shows them.",
    )
    listen_port: int = Field(8090, ge=1024, le=65535, description="The port the display agent serves on.")
    key_env: str = Field(
        DEFAULT_DISPLAY_KEY_ENV,
        pattern=ENV_NAME_PATTERN,
        max_length=100,
        description="Environment variable holding this display's device key (X-Device-Key).",
    )
    key_file: Path | None = Field(
        None, description="File holding the device key instead (one line); readable by the agent only."
    )
    cache_dir: Path | None = Field(
        None, description="Where the copy of the hall's feed is kept; default: var/display-<name>."
    )
    led: LedConfig = Field(default_factory=LedConfig, description="Only for kind led.")
    kiosk: KioskConfig = Field(default_factory=KioskConfig, description="Only for kind kiosk.")
    browser: BrowserConfig = Field(default_factory=BrowserConfig)
    # 15, not 30: after a long outage a screen that drew a wait near the cap showed old progress that
    # much longer (the soak's slowest of 2,000 screens came back 29.3 s after its link did). 2,000
    # screens retrying every 15 s is ~130 TLS connects a second at the proxy, and a screen that comes
    # back resumes from Last-Event-ID, no snapshot.
    reconnect_max_seconds: float = Field(
        15.0, ge=1, le=600, description="Longest wait between reconnects to central (jittered, doubling)."
    )

    @model_validator(mode="after")
    def _verify(self) -> Self:
        raise_findings([*verify_one_key_source(self), *verify_kind_sections(self)])
        return self

    @property
    def cache_path(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else Path("var") / f"display-{self.name}"


def verify_one_key_source(display: DisplayConfig) -> list[Finding]:
    if display.key_file is not None and "key_env" in display.model_fields_set:
        return [Finding(("key_file",), "give key_env or key_file, not both")]
    return []


def verify_kind_sections(display: DisplayConfig) -> list[Finding]:
    """A section for another kind is most likely a wrong `kind`."""
    return [
        Finding((section,), f"{section} settings are for kind {section}; this display is kind {display.kind}")
        for section in ("led", "kiosk")
        if section in display.model_fields_set and display.kind != section
    ]

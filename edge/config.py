"""The edge agent's configuration (one YAML file per hall under camera_configs/), as strict pydantic models.

Every model forbids unknown keys (a typo is an error, never a silent default); defaults and bounds live
on the fields. Checks that need more than one field are `verify_*` functions returning findings; each
model calls its own from one `model_validator` (Frigate style), so every finding is reported at the
field it concerns. Reading a file, with YAML line numbers for every problem, is in `edge/configfile.py`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

logger = logging.getLogger(__name__)

CHECK_ERROR = "edge_config_check"
# Codes travel in observation ids, URLs and logs: letters, digits and a few separators, no spaces.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
STANDARD_BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
DEFAULT_KEY_ENV = "HALLWATCH_EDGE_KEY"

Loc = tuple[str | int, ...]
Code40 = Annotated[str, Field(min_length=1, max_length=40, pattern=CODE_PATTERN)]
# A press id is f"{keypad}:{seq}:{uptime_ms}": 40 + 1 + 5 + 1 + 10 characters fit central's 64.
KeypadName = Annotated[str, Field(min_length=1, max_length=40, pattern=CODE_PATTERN)]


@dataclass(frozen=True)
class Finding:
    """One problem found by a check, at `loc` (relative to the model that found it)."""

    loc: Loc
    message: str


def raise_findings(findings: list[Finding]) -> None:
    """Hand findings to pydantic as one error; the loader splits them back into problems."""
    if findings:
        raise PydanticCustomError(
            CHECK_ERROR,
            "{summary}",
            {
                "summary": "; ".join(f.message for f in findings),
                "findings": tuple((f.loc, f.message) for f in findings),
            },
        )


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
        1000,
        ge=1,
        le=100_000,
        description="Most observations per upload (central's max_batch_events caps it).",
    )
    initial_backoff_seconds: float = Field(0.5, gt=0, le=60, description="First wait after a failed upload.")
    max_backoff_seconds: float = Field(
        30.0, gt=0, le=3600, description="Longest wait between retries while central is unreachable."
    )
    retain_delivered_hours: float = Field(
        168.0,
        ge=0,
        le=24 * 366,
        description="Delivered rows are kept this long (for inspection), then pruned.",
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
    baudrate: int = Field(9600, description=f"Line speed, one of {', '.join(map(str, STANDARD_BAUDRATES))}.")
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
    if keypad.baudrate in STANDARD_BAUDRATES:
        return []
    allowed = ", ".join(map(str, STANDARD_BAUDRATES))
    return [
        Finding(("baudrate",), f"baudrate {keypad.baudrate} is not a standard rate; use one of {allowed}")
    ]


class EdgeConfig(_Section):
    hall: Code40 = Field(..., description="Code of the hall this edge agent serves (its key's hall).")
    central: CentralConfig
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
    keypads: list[KeypadConfig] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _verify(self) -> Self:
        raise_findings(verify_keypads(self.keypads))
        return self

    def keypad_for_window(self, window: str) -> KeypadConfig | None:
        return next((k for k in self.keypads if k.window == window), None)


def verify_unique(keypads: Sequence[KeypadConfig | Mapping[str, Any]], field: str) -> list[Finding]:
    """Names identify presses, a window has one keypad, and two readers on one port would fight.

    Takes raw entries too, so the file loader can still report duplicates when some other part of
    the file is invalid (pydantic runs a model's own checks only once all its fields are valid).
    """
    values = [_value(k, field) for k in keypads]
    counts = Counter(v for v in values if v is not None)
    first: dict[str, int] = {}
    findings = []
    for index, value in enumerate(values):
        if value is None:
            continue
        if counts[value] > 1 and value in first:
            findings.append(
                Finding(
                    ("keypads", index, field), f"{field} {value!r} is already used by keypads[{first[value]}]"
                )
            )
        first.setdefault(value, index)
    return findings


def verify_keypads(keypads: Sequence[KeypadConfig | Mapping[str, Any]]) -> list[Finding]:
    return [
        *verify_unique(keypads, "name"),
        *verify_unique(keypads, "window"),
        *verify_unique(keypads, "port"),
    ]


def _value(entry: KeypadConfig | Mapping[str, Any], field: str) -> str | None:
    value = entry.get(field) if isinstance(entry, Mapping) else getattr(entry, field)
    return value.strip() if isinstance(value, str) else None


def load_edge_config(path: Path) -> EdgeConfig:
    """Read and validate a config file; `edge.configfile.EdgeConfigError` lists every problem and line."""
    from edge.configfile import load_edge_config as load  # the file reader imports these models

    return load(path)

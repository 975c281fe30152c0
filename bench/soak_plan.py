"""What the soak's processes are told and what they hand back (bench/soak.py starts them): one JSON file
each way, validated on load, and the record of an error every client keeps.

Times are `time.monotonic()` seconds: CLOCK_MONOTONIC is one clock for every process on the machine, so
a fault's start in the orchestrator and a delivery in a client process are on the same line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

logger = logging.getLogger(__name__)

# Which errors a fault explains: an HTTP status class, a connection that failed or broke, an outbox
# that refused new work because its disk is full.
ErrorKind = Literal["http_4xx", "http_5xx", "transport", "outbox_full", "rejected"]
# Where a client talks to central: through the halls' link (the TCP proxy the soak cuts) or straight
# to nginx (the case system and the inspectors, inside the government network).
Route = Literal["link", "direct"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorRecord(_Model):
    t: float = Field(description="monotonic seconds")
    source: str = Field(description="who saw it: upload, channel, display, cases, inspector, outbox")
    kind: ErrorKind
    route: Route
    detail: str = Field(max_length=300)


class Rates(_Model):
    """What one hall's edge agent stores, per window and hour (a hall has `windows` windows, a keypad
    each, and one camera per two windows). Health reports are off unless asked for: at the edge's own
    `health_every_seconds` (60 s) 10,000 keypads and 5,000 cameras make 250 uploads a second, more than
    two instances on a 2-core machine shared with the load generators take."""

    presses: float = Field(6.0, ge=0, description="keypad presses (ratings)")
    presence: float = Field(4.0, ge=0, description="staff presence intervals")
    visitor_counts: float = Field(1.0, ge=0, description="hourly visitor counts")
    evidence: float = Field(0.5, ge=0, description="evidence snapshots (absence starts), ~40 KB each")
    health_every_seconds: float | None = Field(
        None, gt=0, description="keypad and camera health reports, each this often (None: none)"
    )


class HallPlan(_Model):
    code: str
    device_id: int = Field(description="the hall's edge device")
    edge_key: str
    windows: list[str]
    display_keys: list[str] = Field(description="one per hall screen")
    item_code: str
    staff_code: str


class DiskPlan(_Model):
    """The agent whose outbox sits on a small file system of its own, which the soak fills."""

    hall: int = Field(ge=0, description="index into the halls")
    directory: Path
    mode: Literal["tmpfs", "page_limit"] = Field(
        description="tmpfs: a real small file system, filled with a file; page_limit: SQLite's "
        "max_page_count (the same SQLITE_FULL), where no file system can be mounted"
    )


class AgentsPlan(_Model):
    url: str = Field(description="central through the halls' link (https)")
    ca: Path
    halls: list[HallPlan]
    rates: Rates
    workdir: Path
    disk: DiskPlan | None
    seed: int


class ClientsPlan(_Model):
    link_url: str = Field(description="central through the halls' link: the screens")
    direct_url: str = Field(description="nginx itself: the case system and the inspectors")
    ca: Path
    halls: list[HallPlan]
    displays: int
    cases_per_second: float
    inspectors: int
    inspector_username: str
    supervisor_username: str
    password: str
    seed: int


class Sample(_Model):
    """One timed delivery: what, when it began, when it was done (None: never)."""

    what: str
    start: float
    done: float | None


class AgentsResult(_Model):
    sent: dict[str, list[str]] = Field(description="device id → observation ids stored in its outbox")
    samples: list[tuple[str, float, float | None]] = Field(description="(kind, put, stored at central)")
    errors: list[ErrorRecord]
    pending: dict[str, list[str]] = Field(
        description="device id → ids still pending in its outbox when the agents stopped (kept, not lost)"
    )
    rejected: int
    answered_duplicate: int = Field(description="re-sent rows central already had (answered duplicate)")
    channel_opens: int
    refused_by_outbox: int
    disk_probes: list[str] = Field(
        description="a press put at once after the disk was filled and after it was emptied, in order: "
        "'refused while full (…)' then 'stored after' when the outbox did what it must"
    )


class ClientsResult(_Model):
    samples: list[tuple[str, float, float | None]] = Field(description="(hall, pushed, received)")
    errors: list[ErrorRecord]
    cases_pushed: int
    snapshots: int = Field(description="snapshots received after a reconnect (instead of the changes)")
    reconnects: int
    inspector_requests: int


M = TypeVar("M", bound=BaseModel)


def load(model: type[M], path: Path) -> M:
    return model.model_validate_json(path.read_bytes())


def save(model: BaseModel, path: Path) -> None:
    path.write_text(model.model_dump_json(), encoding="utf-8")


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)

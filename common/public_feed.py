"""The public progress feed of a hall (RULES QTH-4, SZ-6), central → hall displays, written once for
both sides: central builds these models from its records (every person in them already masked by
`common.masking`), the display agent keeps them on disk and serves them again to its pages unchanged.

Wire shapes
- Snapshot: `GET /api/v1/public/halls/{hall}/progress` → `FeedSnapshot`.
- Changes: `GET /api/v1/public/halls/{hall}/events` (Server-Sent Events). Each message has an `id`
  (the hall's event sequence, increasing by one per change, kept across central restarts), an
  `event` name from `FEED_EVENTS` and one line of JSON `data`:
    case          a `PublicCase`, new or changed (replace the case with this `case_no`)
    case_removed  `CaseRemoved` (the case left the screens: closed on an earlier day, or moved away)
    summary       a `HallSummary` (today's counts and satisfaction)
    notices       `NoticeList` (the hall's notices, all of them)
    snapshot      a `FeedSnapshot` with `reason`: replace everything. Sent first to a client without
                  `Last-Event-ID`, and to one too far behind (its events were pruned) or ahead (the
                  database was restored): `reason` says which.
  A client reconnecting with `Last-Event-ID: N` gets every change after N exactly once. Comment
  lines (`: keep-alive`) arrive every `keepalive_seconds`.
- The display agent relays the same stream to its pages and adds `status` (`AgentStatus`): whether
  central is reachable and how old the data is.
- Kiosk: `POST /api/v1/public/cases/lookup` with `CaseLookup` → `CaseTimeline`, or 404 with the same
  answer whether the case is unknown or the password wrong; 429 (with Retry-After) when throttled.
- Catalog: `GET /api/v1/public/halls/{hall}/catalog` → `Catalog`; hall rules and how to complain:
  `GET /api/v1/public/halls/{hall}/info` → `HallInfo`.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

logger = logging.getLogger(__name__)

Light = Literal["green", "yellow", "red"]
FeedEventName = Literal["case", "case_removed", "summary", "notices", "snapshot"]
FEED_EVENTS: tuple[FeedEventName, ...] = ("case", "case_removed", "summary", "notices", "snapshot")
SnapshotReason = Literal["start", "behind", "ahead"]
# What a kiosk user types: the case number as printed on the receipt, and the query password's digits.
CaseNo = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
QUERY_PASSWORD_DIGITS = 6
QueryPassword = Annotated[
    str, Field(min_length=QUERY_PASSWORD_DIGITS, max_length=QUERY_PASSWORD_DIGITS, pattern=r"^[0-9]+$")
]


class _Public(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PublicCase(_Public):
    """One case as every public screen shows it. `applicant` and `staff` are masked at central."""

    case_no: str
    item: str = Field(description="事项名称")
    department: str
    window: str | None = Field(None, description="The window's name, e.g. 3号窗口")
    staff: str | None = Field(None, description="Staff by name and number only, e.g. 王芳(A1023)")
    applicant: str | None = Field(None, description="Masked: 张*明, 李*, 成都天**有限公司")
    status: str = Field(description="The case status (API value, e.g. accepted)")
    stage: str = Field(description="当前环节 in Chinese, e.g. 承办中")
    accepted_on: date | None = None
    due_date: date | None = Field(None, description="承诺办结日 (promised due date)")
    light: Light | None = Field(None, description="None once closed, or while a due date cannot be counted")
    closed_on: date | None = None
    updated_at: datetime


class CaseRemoved(_Public):
    case_no: str


class HallSummary(_Public):
    """Today's figures for the TV board (Asia/Shanghai day)."""

    day: date
    received: int = Field(ge=0, description="Cases received today")
    completed: int = Field(ge=0, description="Cases completed today")
    overdue: int = Field(ge=0, description="Open cases past their due date now (red)")
    open: int = Field(ge=0, description="Open cases now")
    ratings: int = Field(ge=0, description="Ratings given today at the hall's keypads")
    satisfied: int = Field(ge=0, description="Of those, 满意 or 非常满意")
    satisfaction: float | None = Field(
        None, ge=0, le=1, description="satisfied / ratings; None without ratings"
    )


class Notice(_Public):
    id: int
    text: str = Field(max_length=500)


class NoticeList(_Public):
    notices: list[Notice]


class HallRef(_Public):
    code: str
    name: str


class FeedSnapshot(_Public):
    hall: HallRef
    last_event_id: int = Field(ge=0, description="The id of the last change this snapshot includes")
    generated_at: datetime
    reason: SnapshotReason = "start"
    cases: list[PublicCase]
    summary: HallSummary
    notices: list[Notice]


class AgentStatus(_Public):
    """The display agent's word to its pages: is central reachable, and how old is what they show."""

    central: Literal["connected", "connecting", "unreachable"]
    updated_at: datetime | None = Field(None, description="When the data last came from central")
    last_event_id: int = 0


class CaseLookup(_Public):
    case_no: CaseNo
    password: QueryPassword


class TimelineStep(_Public):
    at: datetime
    label: str = Field(description="The event in Chinese, e.g. 受理")
    window: str | None = None
    staff: str | None = None
    days: int | None = Field(None, description="Working days an extension added")


class CaseTimeline(_Public):
    case: PublicCase
    legal_due_date: date | None = None
    promised_limit_days: int
    legal_limit_days: int
    extension_days: int
    steps: list[TimelineStep]


class CatalogItem(_Public):
    code: str
    name: str
    department: str
    legal_limit_days: int
    promised_limit_days: int | None
    fee: str = Field(description="Yuan, two decimals, e.g. 0.00 (free)")
    basis: str | None = Field(None, description="Legal basis")
    conditions: str | None = None
    materials: list[str] = Field(default_factory=list)


class Catalog(_Public):
    hall: HallRef
    items: list[CatalogItem]


class InfoSection(_Public):
    title: str
    text: str


class HallInfo(_Public):
    hall: HallRef
    address: str | None = None
    sections: list[InfoSection] = Field(description="The hall's rules and how to complain, in order")

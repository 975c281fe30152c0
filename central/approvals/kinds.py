"""What can be asked for approval (SC-18): a registry of request kinds that other modules plug into.

A kind tells the approvals service three things, and the service does the rest (who may ask, who
may decide, auditing the request and the decision, and keeping everything in one transaction):

* which level decides it (`Level`): ``local`` — the bureau at that level, i.e. an approver whose
  jurisdiction covers the target's hall ("looking at or copying reports, video and other material");
  ``province`` — an approver whose jurisdiction is the deployment (`*`) or a region of level
  ``province`` ("deleting or modifying important data needs provincial approval");
* `prepare(ctx, requester=, target=, payload=) -> Prepared`, run when the request is made: check
  that the requester can see the target (raise `not_found` otherwise: another jurisdiction's target
  answers exactly like a missing one) and that the payload makes sense (`bad_payload`, or
  `conflict` when the target's state refuses it); return the target's hall and department (these
  decide who may approve), its canonical id, and the normalised payload that will be stored;
* `apply(ctx, request) -> dict`, run when the request is approved, inside the same transaction as
  the approval: make the change, record its own audit entry with `central.audit.chain.record`
  (e.g. ``case_event.void`` with the before → after), and return a JSON-able summary that is stored
  as the request's `result`. Raising an `ApprovalError` (typically `conflict`) rolls everything back
  and leaves the request pending. `apply` must not commit.

Register a kind once at import time of the module that owns it::

    register_kind(ApprovalKind(name="investigation_extension", label="调查延期", target_type=
                  "investigation", level=Level.PROVINCE, prepare=..., apply=...))

and make sure that module is imported by the app (its router being mounted is enough).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from central.core.actor import Actor
from common.worktime import WorkCalendar

if TYPE_CHECKING:
    from central.access.deps import Principal
    from central.approvals.models import ApprovalRequest

logger = logging.getLogger(__name__)


class Level(StrEnum):
    LOCAL = "local"  # the bureau at the target's level (SC-18: viewing or copying material)
    PROVINCE = "province"  # the provincial bureau (SC-18: deleting or modifying important data)


LEVEL_LABELS: dict[Level, str] = {Level.LOCAL: "本级审批", Level.PROVINCE: "省级审批"}


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


STATUS_LABELS: dict[ApprovalStatus, str] = {
    ApprovalStatus.PENDING: "待审批",
    ApprovalStatus.APPROVED: "已批准",
    ApprovalStatus.REJECTED: "已驳回",
    ApprovalStatus.WITHDRAWN: "已撤回",
}


class ApprovalError(Exception):
    """A request that cannot go ahead: `status_code` for the API, `detail` in English, `zh` for pages."""

    def __init__(self, status_code: int, detail: str, zh: str | None = None) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.zh = zh


def not_found(detail: str, zh: str | None = None) -> ApprovalError:
    return ApprovalError(404, detail, zh)


def bad_payload(detail: str, zh: str | None = None) -> ApprovalError:
    return ApprovalError(422, detail, zh)


def conflict(detail: str, zh: str | None = None) -> ApprovalError:
    return ApprovalError(409, detail, zh)


def forbidden(detail: str, zh: str | None = None) -> ApprovalError:
    return ApprovalError(403, detail, zh)


@dataclass(frozen=True)
class KindContext:
    """What prepare and apply may use: the caller's session (never committed by a kind), the clock,
    who acts (the requester in prepare, the approver in apply), the calendar and the default profile."""

    session: Session
    now: datetime
    actor: Actor
    calendar: WorkCalendar
    default_profile_key: str


@dataclass(frozen=True)
class Prepared:
    """A checked request: where its target lives and the payload to store."""

    hall_id: int | None
    department_id: int | None
    target_id: str
    payload: dict[str, Any] = field(default_factory=dict)


class PrepareFn(Protocol):
    def __call__(
        self, ctx: KindContext, *, requester: Principal, target: str, payload: dict[str, Any]
    ) -> Prepared: ...


ApplyFn = Callable[[KindContext, "ApprovalRequest"], dict[str, Any]]


@dataclass(frozen=True)
class ApprovalKind:
    name: str
    label: str  # zh-CN, shown on the pages
    target_type: str
    level: Level
    prepare: PrepareFn
    apply: ApplyFn


_KINDS: dict[str, ApprovalKind] = {}


def register_kind(kind: ApprovalKind) -> ApprovalKind:
    """Add a kind; registering the same name again replaces it (a module reloaded in tests)."""
    if not kind.name or len(kind.name) > 40:
        raise ValueError(f"a kind name has 1 to 40 characters, not {kind.name!r}")
    if kind.name in _KINDS and _KINDS[kind.name] is not kind:
        logger.info("approval kind %s re-registered", kind.name)
    _KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> ApprovalKind | None:
    return _KINDS.get(name)


def registered_kinds() -> Mapping[str, ApprovalKind]:
    return dict(_KINDS)


def payload_of(request: ApprovalRequest) -> dict[str, Any]:
    """The stored (normalised) payload of a request."""
    value = json.loads(request.payload)
    return value if isinstance(value, dict) else {}


def kind_label(name: str) -> str:
    kind = _KINDS.get(name)
    return kind.label if kind else name

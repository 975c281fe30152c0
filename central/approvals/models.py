"""Approval requests (SC-18): after-the-fact changes and evidence access wait for someone else's yes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from central.core.db import Base
from central.core.types import UTCDateTime


class ApprovalRequest(Base):
    """One request; `payload` (JSON text) is the proposed change, applied only when approved."""

    __tablename__ = "approval_requests"
    __table_args__ = (
        Index("ix_approval_requests_status_kind", "status", "kind"),
        Index("ix_approval_requests_target", "target_type", "target_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))  # pending | approved | rejected | withdrawn
    level: Mapped[str] = mapped_column(String(12))  # local (the bureau at that level) | province
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("halls.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)  # JSON: what applying it did
    usable_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # evidence access grants

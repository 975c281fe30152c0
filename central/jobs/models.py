"""One row per periodic job: which instance runs or last ran its pass (central.jobs.claims)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from central.core.db import Base
from central.core.types import UTCDateTime


class JobRun(Base):
    """A job's latest pass over the whole deployment. `lease_until` is set while an instance runs it
    (renewed as it goes; a killed instance's lease lapses), `finished_at` when a pass succeeded."""

    __tablename__ = "job_runs"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    runner: Mapped[str | None] = mapped_column(String(200))  # host:pid of the latest claim
    token: Mapped[str | None] = mapped_column(String(32))  # that claim's own id: only it may finish it
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the last pass that succeeded
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the last pass that raised

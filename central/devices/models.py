"""The device link's tables: commands for a hall's agents (fetched by long-poll in id order), and
each agent's clock as central last measured it."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from central.core.db import Base
from central.core.types import UTCDateTime

logger = logging.getLogger(__name__)


class DeviceCommand(Base):
    """A command for a hall's edge agent (e.g. PROMPT a keypad), fetched by long-poll in id order."""

    __tablename__ = "device_commands"
    __table_args__ = (Index("ix_device_commands_hall_id", "hall_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    kind: Mapped[str] = mapped_column(String(20))  # prompt
    payload: Mapped[str] = mapped_column(Text)  # JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeviceClock(Base):
    """How far an agent's own clock was from central's when it last asked for the time (`GET
    /device/time` with X-Device-Clock): `hallwatch doctor` names the boxes that need NTP."""

    __tablename__ = "device_clocks"
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), primary_key=True, autoincrement=False)
    skew_seconds: Mapped[float] = mapped_column(Float)  # the box's clock minus central's: > 0 runs ahead
    measured_at: Mapped[datetime] = mapped_column(UTCDateTime())  # central's clock

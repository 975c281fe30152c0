"""The device link's tables: commands for a hall's agents (fetched by long-poll in id order), each
agent's clock as central last measured it, and each agent's outbox disk as it last reported it."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
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


class DeviceOutbox(Base):
    """An edge agent's outbox disk as it last reported it (`common.device_channel.OutboxReport`, in
    its channel pings and its time syncs): `hallwatch doctor` names the boxes whose disk is low or full."""

    __tablename__ = "device_outboxes"
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(8))  # ok | low | full
    since: Mapped[datetime | None] = mapped_column(UTCDateTime())  # on central's clock, as the agent keeps it
    free_bytes: Mapped[int] = mapped_column(BigInteger)
    refused: Mapped[int] = mapped_column(Integer)  # observations refused since the agent started
    refused_by_kind: Mapped[str] = mapped_column(Text)  # JSON {kind: count}
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())  # central's clock

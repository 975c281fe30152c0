"""Audit tables: the append-only, hash-chained entries and the one-row head that serialises appends."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import CHAR

from central.core.db import Base
from central.core.types import UTCDateTime

HEAD_ID = 1  # audit_head's one row

# SQLite only auto-numbers an INTEGER PRIMARY KEY (the rowid); PostgreSQL gets a 64-bit identity.
_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class AuditEntry(Base):
    """One write: who, what, when, from where, before → after, chained to the entry before it.

    `before`/`after` hold canonical JSON *text* (not a JSON column) so the bytes that were hashed
    are the bytes stored, on every backend: a JSON/JSONB round trip may reorder keys or reformat
    numbers and would break the chain without anyone tampering.
    """

    __tablename__ = "audit_entries"
    # A unique *index* (not an inline constraint) so that, on SQLite too, it is an ordinary object an
    # attacker can drop; verify must not rely on it and checks duplicates itself.
    __table_args__ = (Index("ix_audit_entries_seq", "seq", unique=True),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(100))
    target_type: Mapped[str] = mapped_column(String(50))
    target_id: Mapped[str] = mapped_column(String(200))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(CHAR(64))
    hash: Mapped[str] = mapped_column(CHAR(64))


class AuditHead(Base):
    """The chain's last seq and hash, in a single row: locking it serialises appends across instances,
    and it records how long the chain is, so deleting the newest entries is detected too."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(CHAR(64))

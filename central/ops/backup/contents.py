"""What a database holds, as a manifest records it and a restore is held to: every table's row count,
the audit chain's head, the revision, and the stored items (evidence, attachments, report PDFs)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, Select, func, inspect, select, table, text

from central.audit.hashing import ZERO_HASH
from central.audit.models import HEAD_ID, AuditHead
from central.complaints.models import ComplaintAttachment
from central.core.migrate import current_revisions
from central.ops.backup.manifest import AuditHeadRecord, BlobTotals
from central.reports.models import MonthlyReport
from central.video.models import Evidence, EvidenceImage

logger = logging.getLogger(__name__)

NOT_COUNTED = frozenset({"alembic_version"})  # the revision is recorded as such


@dataclass(frozen=True)
class BlobSource:
    """One kind of stored item: its bytes and the SHA-256 its row was stored with."""

    name: str
    rows: Callable[[], Select[int, str, bytes]]  # (id, sha256, data)


BLOBS = (
    BlobSource(
        "video_evidence_images",
        lambda: (
            select(Evidence.id, Evidence.sha256, EvidenceImage.jpeg)
            .join(EvidenceImage, EvidenceImage.evidence_id == Evidence.id)
            .order_by(Evidence.id)
        ),
    ),
    BlobSource(
        "complaint_attachments",
        lambda: select(ComplaintAttachment.id, ComplaintAttachment.sha256, ComplaintAttachment.data).order_by(
            ComplaintAttachment.id
        ),
    ),
    BlobSource(
        "monthly_reports",
        lambda: select(MonthlyReport.id, MonthlyReport.pdf_sha256, MonthlyReport.pdf).order_by(
            MonthlyReport.id
        ),
    ),
)


def table_names(connection: Connection) -> list[str]:
    return sorted(n for n in inspect(connection).get_table_names() if n not in NOT_COUNTED)


def table_counts(connection: Connection) -> dict[str, int]:
    counts = {}
    for name in table_names(connection):
        counts[name] = int(connection.scalar(select(func.count()).select_from(table(name))) or 0)
    return counts


def audit_head(connection: Connection) -> AuditHeadRecord:
    row = connection.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID)).first()
    return (
        AuditHeadRecord(seq=int(row.seq), hash=str(row.hash))
        if row
        else AuditHeadRecord(seq=0, hash=ZERO_HASH)
    )


def revisions(connection: Connection) -> list[str]:
    return sorted(current_revisions(connection))


def blob_totals(connection: Connection) -> dict[str, BlobTotals]:
    length = func.octet_length if connection.dialect.name == "postgresql" else func.length
    totals = {}
    for source in BLOBS:
        rows = source.rows().subquery()
        found = connection.execute(
            select(func.count(), func.coalesce(func.sum(length(rows.c[2])), 0)).select_from(rows)
        ).one()
        totals[source.name] = BlobTotals(rows=int(found[0]), bytes=int(found[1]))
    return totals


@dataclass(frozen=True)
class BadBlob:
    source: str
    row_id: int
    reason: str


def bad_blobs(connection: Connection, *, advance: Callable[[int], None]) -> Iterator[BadBlob]:
    """Every stored item whose bytes do not hash to the SHA-256 its row holds (read in pages)."""
    for source in BLOBS:
        result = connection.execution_options(stream_results=True, yield_per=200).execute(source.rows())
        for row_id, expected, data in result:
            if hashlib.sha256(data).hexdigest() != expected:
                yield BadBlob(source.name, int(row_id), "sha256 mismatch")
            advance(len(data))


def existing_tables(connection: Connection) -> int:
    """How many tables the database already has (0: empty, a restore may go in)."""
    if connection.dialect.name == "postgresql":
        query = text(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        )
        return int(connection.scalar(query) or 0)
    return int(connection.scalar(text("SELECT count(*) FROM sqlite_master WHERE type = 'table'")) or 0)

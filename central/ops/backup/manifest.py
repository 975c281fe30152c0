"""`manifest.json`: what a backup holds, and the hashes that prove it was not damaged."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
PG_DUMP_FILE = "database.dump"
SQLITE_FILE = "database.sqlite3"
CHECKPOINTS_DIR = "checkpoints"
KEYS_DIR = "keys"
CHUNK = 1 << 20

FileRole = Literal["database", "audit_checkpoint", "audit_public_key", "audit_signing_key", "patrol_key"]
PRIVATE_ROLES = frozenset({"audit_signing_key", "patrol_key"})


class ManifestError(ValueError):
    """A directory that is not a readable backup."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BackupFile(_Frozen):
    path: str = Field(max_length=300, description="Relative to the backup directory, with / separators.")
    role: FileRole
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class AuditHeadRecord(_Frozen):
    seq: int = Field(ge=0)
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")


class BlobTotals(_Frozen):
    """The stored items of one kind (snapshots and clips, attachments, report PDFs)."""

    rows: int = Field(ge=0)
    bytes: int = Field(ge=0)


class Manifest(_Frozen):
    format: Literal[1] = 1
    created_at: datetime
    dialect: Literal["postgresql", "sqlite"]
    server_version: str = Field(max_length=100)
    dump_tool: str | None = Field(default=None, max_length=200, description="`pg_dump --version`.")
    revisions: list[str] = Field(description="The database's Alembic revision(s).")
    tables: dict[str, int] = Field(description="Rows per table, read in the dump's own snapshot.")
    audit_head: AuditHeadRecord
    blobs: dict[str, BlobTotals]
    files: list[BackupFile]

    @property
    def database_file(self) -> BackupFile:
        return next(f for f in self.files if f.role == "database")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def describe_file(directory: Path, relative: str, role: FileRole) -> BackupFile:
    path = directory / relative
    return BackupFile(path=relative, role=role, size=path.stat().st_size, sha256=sha256_file(path))


def read_manifest(directory: Path) -> Manifest:
    path = directory / MANIFEST
    try:
        return Manifest.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise ManifestError(f"{path}: cannot be read ({exc.strerror}); is {directory} a backup?") from exc
    except ValidationError as exc:
        raise ManifestError(
            f"{path}: not a hallwatch backup manifest ({exc.error_count()} problem(s))"
        ) from exc


def write_manifest(directory: Path, manifest: Manifest) -> None:
    (directory / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")

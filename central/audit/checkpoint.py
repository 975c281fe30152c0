"""Signed checkpoints of the audit chain's head, kept outside the database (as Certificate
Transparency's signed tree heads are).

The head row lives in the database, so someone with database rights could rewrite the tail of the
chain, recompute every hash and move the head: `verify` alone would pass. A checkpoint is the head
(seq, hash, entry id) signed with the deployment's Ed25519 key (`central.audit.signing`, a file the
database never sees), written as one JSON file to a directory the operator names. `check_chain`
then holds the chain to every checkpoint it is given: an entry whose hash is not the signed one
(a rewritten tail) or a chain shorter than a checkpoint (a cut tail) is named.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from central.audit.hashing import ZERO_HASH
from central.audit.models import HEAD_ID, AuditEntry, AuditHead
from central.audit.signing import key_id
from central.audit.verify import BadEntry, VerifyResult

logger = logging.getLogger(__name__)

DOMAIN = b"hallwatch audit checkpoint v1\n"  # a signature over a checkpoint means nothing else
MAX_FILE_BYTES = 4096


class CheckpointError(ValueError):
    """A checkpoint that cannot be trusted (unreadable, another key, a signature that fails), or a
    head that must not be signed."""


class Checkpoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    seq: int = Field(ge=0, description="The head's seq: entries 1..seq are covered.")
    entry_id: int | None = Field(description="The id of the entry at seq (None for an empty chain).")
    head_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    at: datetime = Field(description="When the checkpoint was signed (UTC).")
    key_id: str = Field(pattern=r"^[0-9a-f]{16}$")
    signature: str = Field(default="", max_length=200, description="Ed25519, base64, over DOMAIN + the rest.")

    def signed_bytes(self) -> bytes:
        fields = self.model_dump(mode="json", exclude={"signature"})
        return DOMAIN + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    @property
    def file_name(self) -> str:
        return f"checkpoint-{self.seq:012d}-{self.at.strftime('%Y%m%dT%H%M%S%fZ')}.json"


def _head(conn: Connection) -> tuple[int, str, int | None]:
    """(seq, hash, entry id) of the head, refused when the head row does not match its entry."""
    row = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID)).first()
    if row is None or row.seq == 0:
        return 0, ZERO_HASH, None
    entry = conn.execute(
        select(AuditEntry.id, AuditEntry.hash)
        .where(AuditEntry.seq == row.seq)
        .order_by(AuditEntry.id)
        .limit(1)
    ).first()
    if entry is None or entry.hash != row.hash:
        raise CheckpointError(
            f"the audit head (seq {row.seq}) does not match its entry; run `hallwatch audit verify`, sign nothing"
        )
    return int(row.seq), str(row.hash), int(entry.id)


def latest_checkpoint(directory: Path) -> Checkpoint | None:
    """The newest well-formed file of `directory` (signatures are checked by `load_checkpoints`).

    File names sort as the checkpoints do (zero-padded seq, then time): read from the last one."""
    files = sorted(directory.glob("checkpoint-*.json"), reverse=True) if directory.is_dir() else []
    for path in files:
        try:
            return _read(path)
        except CheckpointError:
            logger.warning("audit checkpoint %s is unreadable; skipped", path)
    return None


def write_checkpoint(
    session: Session, *, key: Ed25519PrivateKey, directory: Path, now: datetime
) -> tuple[Checkpoint, Path | None]:
    """Sign the current head and write it to `directory`; no new file when the newest already
    signs this head (the path is then None)."""
    seq, head_hash, entry_id = _head(session.connection())
    session.rollback()  # reads only: end the transaction
    latest = latest_checkpoint(directory)
    if latest is not None and (latest.seq, latest.head_hash) == (seq, head_hash):
        return latest, None
    unsigned = Checkpoint(
        seq=seq,
        entry_id=entry_id,
        head_hash=head_hash,
        at=now.astimezone(UTC),
        key_id=key_id(key.public_key()),
    )
    signature = base64.b64encode(key.sign(unsigned.signed_bytes())).decode()
    checkpoint = unsigned.model_copy(update={"signature": signature})
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / checkpoint.file_name
    temporary = directory / f".{checkpoint.file_name}.tmp"
    temporary.write_text(checkpoint.model_dump_json(indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)  # a reader never sees half a file
    logger.info("audit checkpoint written: seq %d → %s", seq, path)
    return checkpoint, path


def _read(path: Path) -> Checkpoint:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CheckpointError(f"{path}: larger than a checkpoint ({MAX_FILE_BYTES} bytes)")
        return Checkpoint.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read ({exc.strerror})") from exc
    except ValidationError as exc:
        raise CheckpointError(f"{path}: not a checkpoint ({exc.error_count()} problem(s))") from exc


def load_checkpoints(path: Path, public: Ed25519PublicKey) -> list[Checkpoint]:
    """The checkpoints of a file or of a directory's checkpoint-*.json, each signature checked
    against `public`; any file that fails refuses the whole set (a forged file is an attack)."""
    files = sorted(path.glob("checkpoint-*.json")) if path.is_dir() else [path]
    if not files:
        raise CheckpointError(f"{path}: no checkpoint-*.json files")
    expected_id = key_id(public)
    checkpoints = []
    for file in files:
        checkpoint = _read(file)
        if checkpoint.key_id != expected_id:
            raise CheckpointError(
                f"{file}: signed by key {checkpoint.key_id}, not by the given key {expected_id}"
            )
        try:
            public.verify(base64.b64decode(checkpoint.signature, validate=True), checkpoint.signed_bytes())
        except (InvalidSignature, ValueError) as exc:
            raise CheckpointError(f"{file}: the signature does not verify (forged or altered)") from exc
        checkpoints.append(checkpoint)
    return sorted(checkpoints, key=lambda c: (c.seq, c.at))


@dataclass(frozen=True)
class CheckpointResult:
    checkpoints: int
    latest_seq: int
    agreed_upto: int  # the highest seq a checkpoint confirms
    bad: BadEntry | None


def check_chain(conn: Connection, chain: VerifyResult, checkpoints: Sequence[Checkpoint]) -> CheckpointResult:
    """Hold an intact chain (`chain`, from `verify`) to signed checkpoints, oldest first."""
    agreed = 0
    latest = max((c.seq for c in checkpoints), default=0)
    for checkpoint in checkpoints:
        signed = f"the checkpoint signed {checkpoint.at.isoformat(timespec='seconds')}"
        if checkpoint.seq > chain.checked:
            detail = (
                f"{signed} covers seq {checkpoint.seq}, but the chain ends at seq {chain.checked}: "
                f"entries after seq {chain.checked} were cut off"
            )
            bad = BadEntry(chain.checked + 1, "checkpoint mismatch", detail)
            return CheckpointResult(len(checkpoints), latest, agreed, bad)
        entry = conn.execute(
            select(AuditEntry.hash, AuditEntry.action, AuditEntry.at).where(AuditEntry.seq == checkpoint.seq)
        ).first()
        stored = entry.hash if entry is not None else ZERO_HASH
        if stored != checkpoint.head_hash:
            detail = (
                f"entry {checkpoint.seq} does not hash to the head {signed}: the chain was rewritten "
                f"after seq {agreed} (the last entry a checkpoint confirms)"
            )
            bad = BadEntry(
                checkpoint.seq,
                "checkpoint mismatch",
                detail,
                entry.action if entry else None,
                entry.at if entry else None,
            )
            return CheckpointResult(len(checkpoints), latest, agreed, bad)
        agreed = checkpoint.seq
    logger.info("audit chain agrees with %d checkpoint(s) up to seq %d", len(checkpoints), agreed)
    return CheckpointResult(len(checkpoints), latest, agreed, None)

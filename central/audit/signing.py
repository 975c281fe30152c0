"""The deployment's Ed25519 key for audit checkpoints: a file of the operator's, never in the database.

The private key is a PEM (PKCS#8) file readable by its owner only (0600, refused otherwise, as ssh
refuses a loose key); the public key beside it (`<key>.pub`, PEM) is what verifiers are given. A
key id — the first 16 hex digits of SHA-256 over the raw public key — names the key in each
checkpoint, so a key rotation shows in the files.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

logger = logging.getLogger(__name__)


class SigningKeyError(ValueError):
    """A key file that is missing, unreadable, of the wrong kind, or readable by others."""


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.name + ".pub")


def generate_key(path: Path) -> tuple[Path, str]:
    """Write a new private key (0600, never over an existing file) and its public key; (pub path, id)."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:  # O_EXCL: an existing key is never overwritten (its checkpoints would no longer verify)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise SigningKeyError(f"{path} exists; a key is never overwritten") from exc
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public = private.public_key()
    pub_path = public_path(path)
    pub_path.write_bytes(
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    logger.info("audit signing key %s written to %s", key_id(public), path)
    return pub_path, key_id(public)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"cannot read the audit signing key {path}: {exc.strerror}") from exc
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyError(f"{path} is readable by others (mode {stat.S_IMODE(mode):o}); chmod 600 it")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"{path} is not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise SigningKeyError(f"cannot read the public key {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise SigningKeyError(f"{path} is not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{path} is not an Ed25519 public key")
    return key

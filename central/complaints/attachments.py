"""A complaint's attachments, checked by their bytes (untrusted input from anyone on the internet).

Only JPEG and PNG images and PDF documents are taken. What a file *is* comes from its content: the
magic numbers, then an image is decoded in full with Pillow (a truncated or corrupt one is refused;
one whose header claims more pixels than the setting allows is refused before it is decoded), and a
PDF must start with `%PDF-`, end with `%%EOF`, and its `startxref` must point inside the file at a
cross-reference table or stream. A file whose name or declared type says one kind while its bytes
are another (a PNG called .pdf, a page of HTML called .jpg) is refused as well: it lies about itself.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import unicodedata
import warnings
from dataclasses import dataclass

from PIL import Image

logger = logging.getLogger(__name__)

JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
KIND_LABELS = {JPEG: "JPEG 图片", PNG: "PNG 图片", PDF: "PDF 文件"}
_EXTENSIONS = {".jpg": JPEG, ".jpeg": JPEG, ".jpe": JPEG, ".png": PNG, ".pdf": PDF}
_DECLARED = {
    "image/jpeg": JPEG,
    "image/jpg": JPEG,
    "image/pjpeg": JPEG,
    "image/png": PNG,
    "application/pdf": PDF,
}
_PIL_FORMATS = {JPEG: "JPEG", PNG: "PNG"}
_PDF_TAIL_BYTES = 2048
_STARTXREF = re.compile(rb"startxref\s+(\d{1,12})\s+%%EOF\s*$")
_XREF_AT = re.compile(rb"\s*(?:xref\b|\d{1,10}\s+\d{1,5}\s+obj\b)")
FILENAME_MAX = 120


class AttachmentRefused(ValueError):
    """A file that is not taken; `message` is for the complainant (zh-CN), `status` the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class AttachmentLimits:
    max_count: int
    max_bytes: int
    max_pixels: int


@dataclass(frozen=True)
class CheckedAttachment:
    filename: str
    media_type: str
    data: bytes
    sha256: str


def clean_filename(name: str) -> str:
    """The last part of a sent name, without control characters, at most FILENAME_MAX characters;
    kept only to show it, never used as a path."""
    base = re.split(r"[\\/]", name)[-1]
    text = "".join(c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C")
    return text.strip()[:FILENAME_MAX] or "附件"


def sniff(data: bytes) -> str | None:
    """The kind the bytes start like, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"%PDF-"):
        return PDF
    return None


def claimed_kind(filename: str, declared: str | None) -> str | None:
    """What the name's extension or the declared content type says the file is (None: says nothing
    we take, e.g. application/octet-stream or no extension)."""
    lowered = filename.lower()
    by_name = next((kind for ext, kind in _EXTENSIONS.items() if lowered.endswith(ext)), None)
    by_type = _DECLARED.get((declared or "").split(";")[0].strip().lower())
    return by_name or by_type


def _check_image(data: bytes, kind: str, *, label: str, max_pixels: int) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != _PIL_FORMATS[kind]:
                    raise AttachmentRefused(415, f"“{label}”不是有效的{KIND_LABELS[kind]}。")
                width, height = image.size
                if width * height > max_pixels:
                    raise AttachmentRefused(
                        413, f"“{label}”的图片过大（{width}×{height} 像素），最多 {max_pixels} 像素。"
                    )
                image.load()  # decode it all: a truncated or corrupt image fails here
    except AttachmentRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise AttachmentRefused(413, f"“{label}”的图片过大，无法接收。") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:  # what Pillow raises on bad bytes
        logger.info("complaint attachment %r does not decode: %s", label, exc)
        raise AttachmentRefused(
            415, f"“{label}”无法作为{KIND_LABELS[kind]}读取（文件损坏或不完整）。"
        ) from exc


def check_pdf(data: bytes, *, label: str) -> None:
    """`%PDF-` at the start, `startxref <offset> %%EOF` at the end, the offset inside the file at a
    cross-reference table (`xref`) or stream (`n g obj`)."""
    refused = AttachmentRefused(415, f"“{label}”不是完整有效的 PDF 文件。")
    if not re.match(rb"%PDF-[12]\.\d", data):
        raise refused
    tail = data[-_PDF_TAIL_BYTES:]
    found = _STARTXREF.search(tail)
    if found is None:
        raise refused
    offset = int(found.group(1))
    if offset <= 0 or offset >= len(data) or not _XREF_AT.match(data, offset):
        raise refused


def check_attachment(
    *, filename: str, declared: str | None, data: bytes, limits: AttachmentLimits
) -> CheckedAttachment:
    """The attachment as it will be stored, or AttachmentRefused with what was wrong."""
    name = clean_filename(filename)
    if len(data) > limits.max_bytes:
        raise AttachmentRefused(
            413, f"“{name}”过大（{len(data) // 1024} KB），每个附件最大 {limits.max_bytes // 1024} KB。"
        )
    if not data:
        raise AttachmentRefused(400, f"“{name}”是空文件。")
    kind = sniff(data)
    if kind is None:
        raise AttachmentRefused(
            415, f"“{name}”的类型不受支持：只接受 JPEG、PNG 图片和 PDF 文件（按文件内容判断，而非文件名）。"
        )
    claimed = claimed_kind(name, declared)
    if claimed is not None and claimed != kind:
        raise AttachmentRefused(
            415,
            f"“{name}”的内容是{KIND_LABELS[kind]}，与其文件名或声明的类型（{KIND_LABELS[claimed]}）不符。",
        )
    if kind == PDF:
        check_pdf(data, label=name)
    else:
        _check_image(data, kind, label=name, max_pixels=limits.max_pixels)
    return CheckedAttachment(
        filename=name, media_type=kind, data=data, sha256=hashlib.sha256(data).hexdigest()
    )

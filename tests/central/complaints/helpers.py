"""Shared pieces of the complaint tests: the people (an inspector over the province, a county
inspector, a clerk of the department complained about, an administrator), files that are and are not
what they say, the form's question answered as a person would, and a complaint sent through the
public API."""

from __future__ import annotations

import io
import re
import struct
import zlib
from datetime import UTC, date, datetime, time
from typing import Any

import matplotlib

matplotlib.use("Agg")
from fastapi.testclient import TestClient
from matplotlib.figure import Figure
from PIL import Image
from sqlalchemy import Engine

from central.access.roles import Role
from central.core.clock import SHANGHAI
from tests.conftest import ROOT_PASSWORD, make_user

HALL = "510000-ZWFW"
PUBLIC = "/api/v1/public/complaints"
STAFF = "/api/v1/complaints"
PASSWORD = ROOT_PASSWORD
USERS = {
    "inspector": (Role.INSPECTOR, "region:510000"),  # the province: covers both halls
    "county-inspector": (Role.INSPECTOR, "region:510104"),  # not the provincial hall
    "clerk": (Role.POST_USER, "department:SCJGJ"),  # the department complained about
    "admin": (Role.SYSADMIN, "*"),  # reads everything, handles nothing
}
_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")}


def make_users(db: Engine, now: datetime) -> None:
    for name, (role, scope) in USERS.items():
        make_user(db, name, role=role, scope=scope, password=PASSWORD, now=now)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI).astimezone(UTC)


def chinese_number(text: str) -> int:
    """二十 → 20, 十二 → 12, 七 → 7 (what the form's question uses)."""
    if "十" not in text:
        return _DIGITS[text]
    tens, _, ones = text.partition("十")
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)


def solve(question: str) -> str:
    found = re.match(r"^(.+?)([加减])(.+?)等于多少", question)
    assert found, question
    first, second = chinese_number(found.group(1)), chinese_number(found.group(3))
    return str(first + second if found.group(2) == "加" else first - second)


def png(width: int = 32, height: int = 24) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def pdf() -> bytes:
    """A real one-page PDF (matplotlib's writer)."""
    figure = Figure(figsize=(2, 2))
    figure.add_subplot().plot([0, 1], [1, 0])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="pdf")
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width`×`height` pixels (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def challenge(client: TestClient) -> dict[str, str]:
    answer = client.get(f"{PUBLIC}/challenge")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return {"challenge": body["token"], "answer": solve(body["question"])}


def form(**fields: Any) -> dict[str, str]:
    base: dict[str, Any] = {
        "hall": HALL,
        "about": "staff",
        "staff": "S001",
        "content": "2026年9月30日上午在1号窗口办理食品经营许可，工作人员态度冷漠，材料一次说不清。",
        "anonymous": "false",
        "name": "张三明",
        "phone": "13800138000",
    }
    base.update(fields)
    return {k: str(v) for k, v in base.items() if v is not None}


def send(
    client: TestClient,
    *,
    files: list[tuple[str, bytes, str]] | None = None,
    answer: str | None = None,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> Any:
    """POST a complaint through the public API with a freshly answered question (`headers`: e.g. a
    kiosk's X-Device-Key)."""
    data = {**form(**fields), **challenge(client)}
    if answer is not None:
        data["answer"] = answer
    parts = [("attachments", (name, content, kind)) for name, content, kind in (files or [])]
    return client.post(PUBLIC, data=data, files=parts or None, headers=headers)


def signed_in(client: TestClient, username: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}

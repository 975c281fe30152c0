"""Fixtures of the monthly report's tests: the hand-built November (world.py) behind a signed-in
deployment supervisor, and Debian's poppler-utils to read the PDFs (pdftotext, pdftoppm)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.central.reports.world import NOW, World, build_world
from tests.conftest import FakeClock

ARTIFACTS = (
    Path(os.environ.get("HALLWATCH_TEST_ARTIFACTS", Path(__file__).resolve().parents[3] / "test-artifacts"))
    / "reports"
)


@pytest.fixture
def world(client: TestClient, session: Session, clock: FakeClock) -> World:
    """November 2026 as world.py builds it, the clock on 3 December (the month has ended)."""
    clock.now = NOW
    return build_world(session)


def poppler(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        message = (
            f"needs Debian's poppler-utils for {tool}: apt-get install -y poppler-utils (make browser does)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it: missing there is a broken setup, not a skip
        pytest.skip(message)
    return found


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext lays it out (columns kept)."""
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    result = subprocess.run(
        [poppler("pdftotext"), "-layout", "-enc", "UTF-8", str(source), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return result.stdout.decode("utf-8")


def first_page_png(pdf: bytes, tmp_path: Path, name: str) -> Path:
    """The PDF's first page as a PNG in test-artifacts/reports/ (pdftoppm)."""
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = ARTIFACTS / name
    subprocess.run(
        [
            poppler("pdftoppm"),
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(source),
            str(stem),
        ],
        check=True,
        timeout=60,
    )
    return stem.with_suffix(".png")

"""`hallwatch cases import FILE.jsonl`: the push API's rules from a file, with a progress bar."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.cases.models import Case, CaseEvent
from tests.central.cases.helpers import ev


def run_import(settings, path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {"HALLWATCH_DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin", "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "central.cli", "cases", "import", str(path), *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_jsonl(path: Path, events: list[dict]) -> None:
    path.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in events) + "\n", encoding="utf-8")


def test_import_file_then_again_is_idempotent(settings, registry, session: Session, tmp_path: Path) -> None:
    events = [
        ev(
            f"e{n}",
            f"C{n // 2}",
            "accepted" if n % 2 == 0 else "undertaken",
            f"2026-11-0{2 + n % 2}T09:00:00+08:00",
        )
        for n in range(10)
    ]
    path = tmp_path / "events.jsonl"
    write_jsonl(path, events)
    first = run_import(settings, path, "--batch-size", "3")
    assert first.returncode == 0, first.stderr
    assert "10 stored" in first.stdout
    again = run_import(settings, path)
    assert again.returncode == 0 and "10 duplicates" in again.stdout
    assert session.scalar(select(func.count(Case.id))) == 5
    assert session.scalar(select(func.count(CaseEvent.id))) == 10


def test_bad_line_names_its_place_and_writes_nothing(
    settings, registry, session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps(ev("e1", "C1", "accepted", "2026-11-02T09:00:00+08:00")) + "\n{oops\n", encoding="utf-8"
    )
    result = run_import(settings, path)
    assert result.returncode == 2
    assert "bad.jsonl:2: not valid JSON" in result.stderr
    path.write_text(
        json.dumps(ev("e1", "C1", "accepted", "2026-11-02T09:00:00+08:00", item_code="NOPE")) + "\n",
        encoding="utf-8",
    )
    result = run_import(settings, path)
    assert result.returncode == 2
    assert "event #1 (e1): invalid: unknown item_code 'NOPE'" in result.stderr
    assert session.scalar(select(func.count(CaseEvent.id))) == 0

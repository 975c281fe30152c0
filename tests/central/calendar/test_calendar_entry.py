"""Administrator-entered years: API, CLI, coverage check, and cases that move when 2027 arrives."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.central.cases.helpers import ev

YEAR_2027 = {
    "year": 2027,
    "holidays": ["2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11"],
    "workdays": ["2027-02-20"],
    "note": "国务院办公厅通知（测试数据）",
}


def test_check_lists_2027_missing(client: TestClient) -> None:
    body = client.get("/api/v1/calendar/check").json()
    assert body["official"][0] == 2004 and body["official"][-1] == 2026
    assert body["missing"] == [2027]


def test_case_due_in_2027_shows_calendar_missing_then_moves_when_entered(
    client: TestClient, registry, clock
) -> None:
    clock.set_shanghai(2026, 12, 21)
    r = client.post("/api/v1/cases/events", json=[ev("a1", "C1", "accepted", "2026-12-21T09:00:00+08:00")])
    assert r.status_code == 200
    case = client.get("/api/v1/cases/C1").json()
    assert case["calendar_missing"] is True and case["missing_years"] == [2027]
    assert case["due_date"] is None and case["light"] is None
    listed = client.get("/api/v1/cases", params={"status": "accepted"}).json()["items"][0]
    assert listed["calendar_missing"] is True

    r = client.post("/api/v1/calendar/years", json=YEAR_2027)
    assert r.status_code == 201, r.text
    assert client.get("/api/v1/calendar/check").json()["missing"] == []
    case = client.get("/api/v1/cases/C1").json()
    # 12-22..12-31: 8 workdays; 2027-01-01 holiday; 01-04 is the 9th, 01-05 the 10th
    assert case["calendar_missing"] is False
    assert case["due_date"] == "2027-01-05"
    listed = client.get("/api/v1/cases", params={"light": "green"}).json()["items"]
    assert [c["case_no"] for c in listed] == ["C1"]
    assert client.get("/api/v1/calendar/years/2027").json()["workdays"] == ["2027-02-20"]


@pytest.mark.parametrize(
    ("entry", "status", "needle"),
    [
        ({"year": 2026, "holidays": ["2026-10-09"]}, 409, "official calendar"),
        ({**YEAR_2027, "holidays": ["2028-01-01"]}, 422, "dates outside 2027"),
        ({**YEAR_2027, "workdays": ["2027-02-22"]}, 422, "Saturday or Sunday"),
        (
            {**YEAR_2027, "workdays": ["2027-02-20"], "holidays": ["2027-02-20"]},
            422,
            "both holiday and workday",
        ),
        ({**YEAR_2027, "holidays": ["2027-02-30"]}, 422, "date"),
        ({**YEAR_2027, "weekends": []}, 422, "weekends"),
    ],
)
def test_bad_calendar_entries(client: TestClient, entry: dict, status: int, needle: str) -> None:
    r = client.post("/api/v1/calendar/years", json=entry)
    assert r.status_code == status
    assert needle in r.text
    assert client.get("/api/v1/calendar/check").json()["missing"] == [2027]


def test_cli_import_and_check(settings, tmp_path: Path) -> None:
    env = {"HALLWATCH_DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin"}
    cli = [sys.executable, "-m", "central.cli"]
    check = subprocess.run([*cli, "calendar", "check"], env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 1 and "2027" in check.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("year: 2027\nholidays: [2027-13-01]\n", encoding="utf-8")
    result = subprocess.run(
        [*cli, "calendar", "import", str(bad)], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2 and "holidays" in result.stderr
    good = tmp_path / "2027.yaml"
    good.write_text("year: 2027\nholidays: [2027-01-01]\nworkdays: [2027-02-20]\n", encoding="utf-8")
    result = subprocess.run(
        [*cli, "calendar", "import", str(good)], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    check = subprocess.run([*cli, "calendar", "check"], env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout

"""Satisfaction figures (HCP) against numbers worked out by hand from `add_november`: weighted
averages and 好评率, 差评 counts, callback and rectification rates, per department, window, staff,
hall and day, inside the caller's jurisdiction; bad ranges are 422."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.central.ratings.followup_world import World, add_november, build_world

URL = "/api/v1/ratings/figures"
NOVEMBER = "from=2026-11-01&to=2026-11-30"


@pytest.fixture
def world(client: TestClient, db: Engine, session: Session, registry: dict[str, int]) -> World:
    return build_world(client, db, session, registry)


@pytest.fixture
def ratings(client: TestClient, session: Session, world: World) -> dict[str, int]:
    return add_november(client, session, world)


def figures(client: TestClient, query: str, **kwargs: Any) -> dict[str, Any]:
    response = client.get(f"{URL}?{query}", **kwargs)
    assert response.status_code == 200, response.text
    return dict(response.json())


def numbers(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["count"],
        row["weight"],
        row["average_level"],
        row["satisfaction_rate"],
        row["bad_count"],
        row["followups"],
        row["called_back"],
        row["rectified"],
        row["callback_rate"],
        row["rectified_rate"],
    )


def test_by_department_with_weights(client: TestClient, ratings: dict[str, int]) -> None:
    shown = figures(client, f"by=department&{NOVEMBER}")
    assert (shown["by"], shown["date_from"], shown["date_to"]) == ("department", "2026-11-01", "2026-11-30")
    rows = {row["key"]: row for row in shown["rows"]}
    assert [row["key"] for row in shown["rows"]] == ["SCJGJ", "JJSJ", None]
    # SCJGJ: r1..r5. Σw = 4.25; Σw·level = 5 + 4 + 0.75 + 1 + 2 = 12.75; not 差评: 1 + 1 + 0.25 = 2.25.
    assert numbers(rows["SCJGJ"]) == (5, 4.25, 3.0, round(2.25 / 4.25, 6), 2, 2, 1, 0, 0.5, 0.0)
    assert rows["SCJGJ"]["label"] == "省市场监管局" and rows["SCJGJ"]["hall_code"] == "510000-ZWFW"
    # JJSJ: c1, c2. Σw = 1.25; Σw·level = 5 + 0.25 = 5.25; not 差评: 1.
    assert numbers(rows["JJSJ"]) == (2, 1.25, 4.2, 0.8, 1, 1, 0, 0, 0.0, 0.0)
    assert numbers(rows[None]) == (1, 1.0, 4.0, 1.0, 0, 0, 0, 0, None, None)
    assert rows[None]["label"] == "（未关联部门）"
    # Total: Σw = 6.5; Σw·level = 22; not 差评: 4.25; r0 (10-15) is outside the range.
    total = shown["total"]
    assert numbers(total) == (
        8,
        6.5,
        round(22 / 6.5, 4),
        round(4.25 / 6.5, 6),
        3,
        3,
        1,
        0,
        round(1 / 3, 6),
        0.0,
    )
    assert total["label"] == "合计"


def test_by_window_staff_hall_and_day(client: TestClient, ratings: dict[str, int]) -> None:
    windows = figures(client, f"by=window&{NOVEMBER}")["rows"]
    assert [(r["key"], r["hall_code"], r["count"]) for r in windows] == [
        ("W01", "510000-ZWFW", 5),
        ("W01", "510104-ZWFW", 2),
        (None, "510000-ZWFW", 1),
    ]
    assert windows[1]["label"] == "锦江1号窗口" and windows[2]["label"] == "（未关联窗口）"
    staff = figures(client, f"by=staff&{NOVEMBER}")["rows"]
    assert [(r["key"], r["label"], r["count"], r["bad_count"]) for r in staff] == [
        ("S001", "张三", 5, 2),
        ("S002", "李四", 2, 1),
        (None, "（未关联人员）", 1, 0),
    ]
    halls = figures(client, f"by=hall&{NOVEMBER}")["rows"]
    assert [(r["key"], r["hall_code"], r["count"], r["weight"]) for r in halls] == [
        ("510000-ZWFW", "510000-ZWFW", 6, 5.25),
        ("510104-ZWFW", "510104-ZWFW", 2, 1.25),
    ]
    days = {r["key"]: r for r in figures(client, f"by=day&{NOVEMBER}")["rows"]}
    assert list(days) == ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"]
    assert numbers(days["2026-11-02"])[:5] == (2, 2.0, 4.5, 1.0, 0)
    # 11-03: r3 (3, w 0.25) and r4 (1, w 1): Σw·level = 1.75 over 1.25; not 差评 0.25 of 1.25.
    assert numbers(days["2026-11-03"])[:5] == (2, 1.25, 1.4, 0.2, 1)
    assert days["2026-11-03"]["label"] == "2026-11-03"
    october = figures(client, "by=day&from=2026-10-01&to=2026-10-31")
    assert [r["key"] for r in october["rows"]] == ["2026-10-15"] and october["total"]["bad_count"] == 1


def test_figures_stay_inside_the_jurisdiction(
    client: TestClient, world: World, ratings: dict[str, int]
) -> None:
    clerk = figures(client, f"by=staff&{NOVEMBER}", auth=world.people["clerk"])
    assert [r["key"] for r in clerk["rows"]] == ["S001"] and clerk["total"]["count"] == 5
    county = figures(client, f"by=hall&{NOVEMBER}", auth=world.people["county_inspector"])
    assert [r["key"] for r in county["rows"]] == ["510104-ZWFW"] and county["total"]["count"] == 2


def test_defaults_and_bad_ranges(client: TestClient, ratings: dict[str, int]) -> None:
    default = figures(client, "")
    assert (default["by"], default["date_from"], default["date_to"]) == (
        "department",
        "2026-10-29",
        "2026-11-27",
    )
    assert default["total"]["count"] == 8
    empty = figures(client, "by=window&from=2026-01-01&to=2026-01-31")
    assert empty["rows"] == [] and empty["total"]["count"] == 0 and empty["total"]["average_level"] is None
    for bad in (
        "by=month",
        "from=2026-11-30&to=2026-11-01",
        "from=2024-01-01&to=2026-11-01",
        "from=11/01/2026",
    ):
        assert client.get(f"{URL}?{bad}").status_code == 422, bad

"""The published patrol plan through the API and the CLI, on both databases (SC-6(1))."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.app import create_app
from central.core.config import Settings
from central.core.db import make_session_factory
from central.patrols.jobs import patrol_plan_job
from central.patrols.models import PatrolPlan, PatrolTask
from central.patrols.service import publish_plan
from central.registry.models import Hall, Region
from common.worktime import WorkCalendar
from common.worktime.official import official_years
from tests.conftest import FakeClock, SignedIn, make_user

CITIES = {"510100": ("成都市", ["510104", "510105", "510106"]), "510300": ("自贡市", ["510302", "510303"])}


@pytest.fixture
def key_file(settings: Settings) -> Path:
    assert settings.patrol_key_file is not None  # tests/conftest.py gives every app a draw key
    return settings.patrol_key_file


@pytest.fixture
def province(session: Session) -> dict[str, int]:
    """A province, two cities, five counties, each with its centre; one county (510106) without."""
    ids: dict[str, int] = {}

    def region(code: str, name: str, level: str, parent: str | None, centre: bool = True) -> None:
        row = Region(code=code, name=name, level=level, parent_id=ids.get(parent or ""))
        session.add(row)
        session.flush()
        ids[code] = row.id
        if centre:
            hall_level = {"province": "provincial"}.get(level, level)
            session.add(
                Hall(code=f"{code}-ZWFW", name=f"{name}政务服务中心", region_id=row.id, level=hall_level)
            )

    region("510000", "四川省", "province", None)
    for city, (name, counties) in CITIES.items():
        region(city, name, "city", "510000")
        for county in counties:
            region(county, f"县{county}", "county", city, centre=county != "510106")
    session.commit()
    return ids


@pytest.fixture
def people(db: Engine, clock: FakeClock, province: dict[str, int]) -> dict[str, str]:
    made = {
        "prov1": make_user(db, "prov1", role=Role.INSPECTOR, scope="region:510000", now=clock()),
        "prov2": make_user(db, "prov2", role=Role.INSPECTOR, scope="region:510000", now=clock()),
        "cd1": make_user(db, "cd1", role=Role.INSPECTOR, scope="region:510100", now=clock()),
        "hallsup": make_user(
            db, "hallsup", role=Role.SYSTEM_SUPERVISOR, scope="hall:510104-ZWFW", now=clock()
        ),
        "hallinspector": make_user(
            db, "hallinspector", role=Role.INSPECTOR, scope="hall:510104-ZWFW", now=clock()
        ),
    }
    return made


@pytest.fixture
def app_client(db: Engine, settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=db, clock=clock)) as c:
        yield c


def as_user(client: TestClient, people: dict[str, str], name: str) -> TestClient:
    client.auth = SignedIn(name, people[name])
    return client


def test_todays_plan_for_the_province_names_every_quota(
    app_client: TestClient, people: dict[str, str]
) -> None:
    # the fixture clock: Friday 2026-11-27, a working day
    plan = as_user(app_client, people, "prov1").get("/api/v1/patrols/plan").json()
    assert plan["day"] == "2026-11-27" and plan["working_day"] is True and len(plan["key_id"]) == 16
    owed = [(t["body"]["code"], t["region"]["code"], t["reason"]) for t in plan["patrols"]]
    assert owed.count(("510000", "510000", "own_centre")) == 2
    assert len(plan["drawn"]["510000:city"]) == 2
    # the province draws 8 counties, but only four have a centre: all four, and the fifth is no candidate
    assert sorted(r["code"] for r in plan["drawn"]["510000:county"]) == [
        "510104",
        "510105",
        "510302",
        "510303",
    ]
    assert owed.count(("510100", "510100", "own_centre")) == 2
    assert ("510100", "510104", "city_county") in owed and ("510100", "510105", "city_county") in owed
    assert [g["code"] for g in plan["gaps"]] == ["510106"]  # a city must patrol it, but it has no centre
    assert owed.count(("510104", "510104", "own_centre")) == 2
    centre = [
        t["inspector"]
        for t in plan["patrols"]
        if t["body"]["code"] == "510000" and t["reason"] == "own_centre"
    ]
    assert sorted(centre) == ["prov1", "prov2"]
    assert all(t["inspector"] is None for t in plan["patrols"] if t["body"]["code"] == "510104")
    assert {t["reason_label"] for t in plan["patrols"]} >= {"本级中心", "抽选市（州）", "所辖县（市、区）"}


def test_a_city_sees_its_own_bodies_and_not_the_provinces_draw(
    app_client: TestClient, people: dict[str, str]
) -> None:
    as_user(app_client, people, "prov1").get("/api/v1/patrols/plan")  # published by the province
    plan = as_user(app_client, people, "cd1").get("/api/v1/patrols/plan").json()
    bodies = {t["body"]["code"] for t in plan["patrols"]}
    assert bodies == {"510100", "510104", "510105"}
    assert plan["drawn"] == {}


@pytest.mark.parametrize("who", ["hallsup", "hallinspector"])
def test_a_patrolled_hall_is_never_told_the_plan(
    app_client: TestClient, people: dict[str, str], who: str
) -> None:
    response = as_user(app_client, people, who).get("/api/v1/patrols/plan")
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("day", "status", "text"),
    [
        ("2026-11-30", 409, "drawn on that day"),  # Monday after the fixture's Friday
        ("2026-11-26", 404, "no patrol plan was published"),
        ("2031-01-02", 409, "drawn on that day"),
        ("2101-01-01", 422, ""),
        ("not-a-day", 422, ""),
    ],
)
def test_days_that_have_no_plan_are_refused_with_a_reason(
    app_client: TestClient, people: dict[str, str], day: str, status: int, text: str
) -> None:
    response = as_user(app_client, people, "prov1").get("/api/v1/patrols/plan", params={"date": day})
    assert response.status_code == status, response.text
    assert text in response.text


def test_a_day_off_has_no_patrols(app_client: TestClient, people: dict[str, str], clock: FakeClock) -> None:
    clock.set_shanghai(2026, 11, 28)  # Saturday
    plan = as_user(app_client, people, "prov1").get("/api/v1/patrols/plan").json()
    assert plan == {**plan, "working_day": False, "patrols": [], "key_id": None}


def test_a_year_nobody_entered_is_refused_not_guessed(
    app_client: TestClient, people: dict[str, str], clock: FakeClock
) -> None:
    clock.set_shanghai(2027, 3, 3)  # chinesecalendar 1.11 ends with 2026; nobody entered 2027
    response = as_user(app_client, people, "prov1").get("/api/v1/patrols/plan")
    assert response.status_code == 409 and "2027" in response.json()["detail"]


def test_without_a_key_no_plan_is_drawn_but_a_published_one_is_read(
    db: Engine, settings: Settings, clock: FakeClock, people: dict[str, str]
) -> None:
    keyless = settings.model_copy(update={"patrol_key_file": None})
    with TestClient(create_app(keyless, engine=db, clock=clock)) as c:
        response = as_user(c, people, "prov1").get("/api/v1/patrols/plan")
        assert response.status_code == 503 and "hallwatch patrol keygen" in response.json()["detail"]
    with TestClient(create_app(settings, engine=db, clock=clock)) as c:
        assert as_user(c, people, "prov1").get("/api/v1/patrols/plan").status_code == 200
    with TestClient(create_app(keyless, engine=db, clock=clock)) as c:
        assert as_user(c, people, "prov1").get("/api/v1/patrols/plan").status_code == 200


def test_a_published_plan_is_never_redrawn_and_a_registry_change_waits_for_the_next_day(
    session: Session, key_file: Path, clock: FakeClock, province: dict[str, int]
) -> None:
    calendar = WorkCalendar(official_years())
    friday, monday = date(2026, 11, 27), date(2026, 11, 30)

    def publish(day: date) -> PatrolPlan:
        plan = publish_plan(
            session,
            day=day,
            today=day,
            calendar=calendar,
            key_file=key_file,
            default_profile_key="sichuan-2011",
            now=clock(),
        )
        assert plan is not None
        return plan

    first = publish(friday)
    tasks = session.scalar(select(func.count()).select_from(PatrolTask))
    session.add(Hall(code="510106-ZWFW", name="新中心", region_id=province["510106"], level="county"))
    session.commit()
    again = publish(friday)
    assert again.id == first.id and again.drawn == first.drawn
    assert session.scalar(select(func.count()).select_from(PatrolTask)) == tasks
    monday_plan = publish(monday)
    assert "510106" in monday_plan.drawn["510000:county"]  # five candidates now, eight picks: all
    assert monday_plan.gaps == []


def test_the_cli_prints_the_plan_and_keygen_refuses_to_overwrite(
    db: Engine, settings: Settings, key_file: Path, province: dict[str, int], tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "HALLWATCH_DATABASE_URL": settings.database_url,
        "HALLWATCH_PATROL_KEY_FILE": str(key_file),
        "COLUMNS": "200",
    }
    today = subprocess.run(
        [sys.executable, "-m", "central.cli", "patrol", "plan"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert today.returncode in (0, 1), today.stderr
    if today.returncode == 0:  # a working day on this machine's clock: the plan
        assert "视频巡查计划" in today.stdout or "非工作日" in today.stdout
    else:  # the year is not in the calendar on this machine's clock: refused, never guessed
        assert "calendar missing" in today.stderr
    future = subprocess.run(
        [sys.executable, "-m", "central.cli", "patrol", "plan", "--date", "2099-01-05"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert future.returncode == 1 and "drawn on that day" in future.stderr
    new_key = tmp_path / "k2"
    made = subprocess.run(
        [sys.executable, "-m", "central.cli", "patrol", "keygen", str(new_key)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0 and stat.S_IMODE(new_key.stat().st_mode) == 0o600
    again = subprocess.run(
        [sys.executable, "-m", "central.cli", "patrol", "keygen", str(new_key)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 2 and "exists" in again.stderr


def test_supervising_bodies_are_the_regions_and_departments_with_their_inspectors(
    app_client: TestClient, people: dict[str, str], session: Session, province: dict[str, int]
) -> None:
    bodies = as_user(app_client, people, "prov1").get("/api/v1/patrols/bodies").json()
    by_code = {b["code"]: b for b in bodies}
    assert by_code["510000"]["inspectors"] == ["prov1", "prov2"] and by_code["510000"]["has_quota"]
    assert by_code["510100"] == {
        "kind": "region",
        "code": "510100",
        "name": "成都市电子监察机构",
        "level": "市（州）级",
        "has_quota": True,
        "inspectors": ["cd1"],
    }
    assert len([b for b in bodies if b["kind"] == "region"]) == 8
    city = as_user(app_client, people, "cd1").get("/api/v1/patrols/bodies").json()
    assert sorted(b["code"] for b in city) == ["510100", "510104", "510105", "510106"]


def test_the_console_page_shows_my_patrols_first_and_refuses_the_patrolled(
    app_client: TestClient, people: dict[str, str]
) -> None:
    response = app_client.post(
        "/console/login", data={"username": "prov2", "password": people["prov2"]}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    html = app_client.get("/console/patrols").text
    assert "我的巡查任务" in html and "四川省政务服务中心" in html and "今日抽选" in html
    assert "县510106（510106）" in html  # the gap is named
    assert app_client.get("/console/patrols", params={"date": "2026-11-30"}).status_code == 409
    assert app_client.get("/console/patrols", params={"date": "2026-11-22"}).text.count("非工作日") == 1
    bad = app_client.get("/console/patrols", params={"date": "2026-13-01"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.text


def test_the_console_page_is_closed_to_a_hall(app_client: TestClient, people: dict[str, str]) -> None:
    app_client.post("/console/login", data={"username": "hallsup", "password": people["hallsup"]})
    response = app_client.get("/console/patrols")
    assert response.status_code == 403 and "不得预知" in response.text


def test_the_daily_job_publishes_todays_plan_once_and_logs_what_stops_it(
    db: Engine,
    settings: Settings,
    clock: FakeClock,
    province: dict[str, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    factory = make_session_factory(db)
    job = patrol_plan_job(interval=600)
    job.run(factory, clock, settings)
    job.run(factory, clock, settings)
    with factory() as s:
        assert s.scalars(select(PatrolPlan.day)).all() == [date(2026, 11, 27)]
    clock.set_shanghai(2027, 1, 4)  # a year nobody entered
    job.run(factory, clock, settings)
    job.run(factory, clock, settings.model_copy(update={"patrol_key_file": None}))
    assert "calendar missing" in caplog.text
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(PatrolPlan)) == 1

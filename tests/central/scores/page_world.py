"""Two halls in two jurisdictions (the province's hall, 锦江区's hall), a third hall whose profile has no
scoring scheme (七台河, qitaihe-2008), and three days of scores of November 2026 — one of them
recomputed — in the shape the daily pass writes them (factory.py). The daily pass's own tests have theirs in world.py.

Day 2026-11-26, staff: 王五 S002 100 and 赵六 S003 100 share rank 1, 李四 S101 (county) 95 is 3rd,
张三 S001 86 is 4th. 张三's 11-25 was 80 before a 差评 was excluded, 90 after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.models import User
from central.access.roles import Role
from central.ratings.models import FollowUp, Rating
from central.registry.models import Department, Hall, Region, ServiceWindow, Staff
from tests.central.scores.factory import Line, Scores, dims, red
from tests.conftest import ROOT_PASSWORD, make_user

PASSWORD = ROOT_PASSWORD
D24, D25, D26 = date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 26)
SIGNAL_ID = 501
EXCLUDED_REASON = "差评已经审批剔除（审批 #7）"
RECOMPUTED_AT = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


@dataclass
class World:
    ids: dict[str, int]
    rating_id: int
    followup_id: int


def _add(session: Session, row: object) -> int:
    session.add(row)
    session.flush()
    return int(row.id)  # type: ignore[attr-defined]


def build_world(db: Engine, session: Session, registry: dict[str, int], now: datetime) -> World:
    prov_hall, county_hall = registry["hall"], registry["county_hall"]
    scjgj = session.scalar(select(Department).where(Department.code == "SCJGJ"))
    w01 = session.scalar(select(ServiceWindow).where(ServiceWindow.code == "W01"))
    s001 = session.scalar(select(Staff).where(Staff.code == "S001"))
    assert scjgj and w01 and s001
    ids = {"SCJGJ": scjgj.id, "W01": w01.id, "S001": s001.id, "prov": prov_hall, "county": county_hall}
    ids["SWJ"] = _add(session, Department(code="SWJ", name="省税务局", hall_id=prov_hall))
    ids["W02"] = _add(
        session, ServiceWindow(code="W02", name="2号窗口", hall_id=prov_hall, department_id=ids["SWJ"])
    )
    for code, name in (("S002", "王五"), ("S003", "赵六")):
        ids[code] = _add(session, Staff(code=code, name=name, department_id=ids["SWJ"], window_id=ids["W02"]))
    ids["JJSCJG"] = _add(session, Department(code="JJSCJG", name="锦江区市场监管局", hall_id=county_hall))
    ids["cW01"] = _add(
        session, ServiceWindow(code="W01", name="1号窗口", hall_id=county_hall, department_id=ids["JJSCJG"])
    )
    ids["S101"] = _add(
        session, Staff(code="S101", name="李四", department_id=ids["JJSCJG"], window_id=ids["cW01"])
    )
    qth = _add(session, Region(code="230900", name="七台河市", level="city", rule_profile="qitaihe-2008"))
    ids["qth"] = _add(
        session, Hall(code="230900-ZWFW", name="七台河市政务服务中心", region_id=qth, level="city")
    )
    rated = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    rating_id = _add(
        session,
        Rating(
            channel="window_device",
            level=1,
            hall_id=prov_hall,
            department_id=ids["SCJGJ"],
            window_id=ids["W01"],
            staff_id=ids["S001"],
            rated_at=rated,
            rated_on=D26,
            updated_at=rated,
        ),
    )
    followup_id = _add(
        session,
        FollowUp(
            rating_id=rating_id, hall_id=prov_hall, department_id=ids["SCJGJ"], status="open", opened_at=rated
        ),
    )
    _scores(Scores(session), ids, rating_id)
    session.commit()
    for username, role, scope in (
        ("clerk", Role.POST_USER, "department:SCJGJ"),
        ("county", Role.INSPECTOR, "region:510104"),
        ("taxclerk", Role.POST_USER, "department:SWJ"),
    ):
        make_user(db, username, role=role, scope=scope, password=PASSWORD, now=now)
    clerk = session.scalar(select(User).where(User.username == "clerk"))
    assert clerk is not None
    clerk.staff_id = ids["S001"]  # 张三's own account (the link itself is tested through the API)
    session.commit()
    return World(ids=ids, rating_id=rating_id, followup_id=followup_id)


def _scores(scores: Scores, ids: dict[str, int], rating_id: int) -> None:
    prov, county = ids["prov"], ids["county"]
    bad = Line("bad_rating", "差评", "satisfaction", -5, "差评 1 条 × −5 = −5", "rating", rating_id)
    early = Line(
        "early_completion", "提前办结", "time_limits", 1, "提前办结 12% ÷ 10% = 1 步 × +1 = +1", "case_share"
    )
    # 张三 S001 and his window W01: the 11-25 figure was recomputed after a 差评 was excluded.
    for kind, key in (("staff", "S001"), ("window", "W01")):
        scores.day(kind, ids[key], hall_id=prov, department_id=ids["SCJGJ"], day=D24, month_score=100)
        scores.day(
            kind,
            ids[key],
            hall_id=prov,
            department_id=ids["SCJGJ"],
            day=D25,
            month_score=80,
            lines=[
                red(SIGNAL_ID),
                Line("bad_rating", "差评", "satisfaction", -10, "差评 1 条 × −10 = −10", "rating", 99999),
            ],
            dimensions=dims(time_limits=10, satisfaction=10),
            current=False,
            superseded_at=RECOMPUTED_AT,
            superseded_reason=EXCLUDED_REASON,
        )
        scores.day(
            kind,
            ids[key],
            hall_id=prov,
            department_id=ids["SCJGJ"],
            day=D25,
            month_score=90,
            lines=[red(SIGNAL_ID)],
            dimensions=dims(time_limits=10),
            revision=2,
            computed_at=RECOMPUTED_AT,
        )
        scores.day(
            kind,
            ids[key],
            hall_id=prov,
            department_id=ids["SCJGJ"],
            day=D26,
            month_score=86,
            lines=[bad, early],
            dimensions=dims(time_limits=9, satisfaction=5),
        )
    for key in ("S002", "S003"):
        for day in (D24, D25, D26):
            scores.day("staff", ids[key], hall_id=prov, department_id=ids["SWJ"], day=day, month_score=100)
    for day in (D24, D25, D26):
        scores.day("window", ids["W02"], hall_id=prov, department_id=ids["SWJ"], day=day, month_score=100)
        scores.day("department", ids["SWJ"], hall_id=prov, department_id=ids["SWJ"], day=day, month_score=100)
    for day, score in ((D24, 100), (D25, 95), (D26, 93)):
        scores.day(
            "department", ids["SCJGJ"], hall_id=prov, department_id=ids["SCJGJ"], day=day, month_score=score
        )
    for day, score in ((D24, 100), (D25, 95), (D26, 96.5)):
        scores.day(
            "hall",
            prov,
            hall_id=prov,
            department_id=None,
            day=day,
            month_score=score,
            dimensions=dims(time_limits=100 - score),
        )
    for day, score in ((D24, 99), (D25, 97), (D26, 95)):
        lost = {"attitude": 100 - score}
        scores.day(
            "hall",
            county,
            hall_id=county,
            department_id=None,
            day=day,
            month_score=score,
            dimensions=dims(**lost),
        )
        for kind, key in (("staff", "S101"), ("window", "cW01"), ("department", "JJSCJG")):
            scores.day(
                kind,
                ids[key],
                hall_id=county,
                department_id=ids["JJSCJG"],
                day=day,
                month_score=score,
                dimensions=dims(**lost),
            )

"""A small world for the follow-up, figure, export and page tests of ratings (HCP).

Two halls of the `registry` fixture: the provincial hall (SCJGJ, window W01, staff S001 张三) and
the county hall, which gets department JJSJ, window W01 and staff S002 李四 here. Ratings are written
straight through the session (the binding is another module's: tests/central/ratings/test_binding*),
and each 差评 goes through the binding's hooks (`notify_bad_rating`), as the binding does. Cases
come through the real event API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.calendar.service import load_calendar
from central.cases.models import Case
from central.core.clock import SHANGHAI, shanghai_date
from central.profiles.assignment import profile_for_hall
from central.ratings import followups  # noqa: F401 - registers open_followup as a 差评 hook (the app does too)
from central.ratings.ingest import notify_bad_rating
from central.ratings.models import FollowUp, Rating
from central.registry.models import Department, Hall, Item, Region, ServiceWindow, Staff
from tests.central.cases.helpers import ev
from tests.conftest import SignedIn, make_user

PASSWORD = "correct-horse-battery-2026"
PROFILE = "sichuan-2011"
FOLLOWUPS = "/api/v1/ratings/followups"

# username → (role, scope)
PEOPLE: dict[str, tuple[Role, str]] = {
    "clerk": (Role.POST_USER, "department:SCJGJ"),  # answers for the provincial department
    "county_clerk": (Role.POST_USER, "department:JJSJ"),
    "inspector": (Role.INSPECTOR, "region:510000"),  # provincial: closes, decides exclusions
    "inspector2": (Role.INSPECTOR, "region:510000"),
    "county_inspector": (Role.INSPECTOR, "region:510104"),
    "sysadmin": (Role.SYSADMIN, "*"),
}


def sh(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """An aware UTC moment from Shanghai wall time."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@dataclass(frozen=True)
class World:
    ids: dict[str, int]
    people: dict[str, SignedIn]


def build_world(client: TestClient, db: Engine, session: Session, registry: dict[str, int]) -> World:
    county = Department(code="JJSJ", name="锦江区市场监管局", hall_id=registry["county_hall"])
    session.add(county)
    session.flush()
    county_window = ServiceWindow(
        code="W01", name="锦江1号窗口", hall_id=county.hall_id, department_id=county.id
    )
    session.add(county_window)
    session.flush()
    session.add(Staff(code="S002", name="李四", department_id=county.id, window_id=county_window.id))
    session.add(
        Item(
            code="JJSJ-XK-001",
            name="个体工商户登记",
            department_id=county.id,
            legal_limit_days=20,
            fee=Decimal("0"),
        )
    )
    session.commit()
    ids = {
        "hall": registry["hall"],
        "county_hall": registry["county_hall"],
        "SCJGJ": _id(session, Department, "SCJGJ"),
        "JJSJ": county.id,
        "W01": _window(session, registry["hall"]),
        "KW01": county_window.id,
        "S001": _id(session, Staff, "S001"),
        "S002": _id(session, Staff, "S002"),
    }
    for name, (role, scope) in PEOPLE.items():
        make_user(db, name, role=role, scope=scope, password=PASSWORD)
    return World(ids=ids, people={name: SignedIn(name, PASSWORD) for name in PEOPLE})


def _id(session: Session, model: type[Department] | type[Staff], code: str) -> int:
    found = session.scalar(select(model.id).where(model.code == code))
    assert found is not None
    return int(found)


def _window(session: Session, hall_id: int) -> int:
    found = session.scalar(select(ServiceWindow.id).where(ServiceWindow.hall_id == hall_id))
    assert found is not None
    return int(found)


def add_case(client: TestClient, case_no: str, day: str = "2026-11-02") -> None:
    """A case accepted at the provincial hall's window W01 by S001, through the event API."""
    event = ev(
        f"{case_no}-acc", case_no, "accepted", f"{day}T09:00:00+08:00", window_code="W01", staff_code="S001"
    )
    response = client.post("/api/v1/cases/events", json=[event])
    assert response.status_code == 200, response.text


def use_shenzhen_rules(session: Session, registry: dict[str, int]) -> None:
    """The county's region runs the Shenzhen profile (差评 rectified within 5 working days)."""
    region = session.get(Region, registry["county_region"])
    assert region is not None
    region.rule_profile = "shenzhen-2007"
    session.commit()


def add_rating(
    session: Session,
    world: World,
    *,
    level: int,
    at: datetime,
    county: bool = False,
    weight: float = 1.0,
    burst: bool = False,
    case_no: str | None = None,
    placed: bool = True,
    text: str | None = None,
) -> int:
    """Store a rating as the binding would (window, staff, department of the hall) and run the
    binding's 差评 hooks; returns the rating id. `placed=False`: no window, staff or department."""
    hall_id = world.ids["county_hall" if county else "hall"]
    case_id = session.scalar(select(Case.id).where(Case.case_no == case_no)) if case_no else None
    rating = Rating(
        channel="window_device",
        level=level,
        text=text,
        case_id=case_id,
        hall_id=hall_id,
        department_id=world.ids["JJSJ" if county else "SCJGJ"] if placed else None,
        window_id=world.ids["KW01" if county else "W01"] if placed else None,
        staff_id=world.ids["S002" if county else "S001"] if placed else None,
        rated_at=at,
        rated_on=shanghai_date(at),
        weight=weight,
        burst=burst,
        excluded=False,
        updated_at=at,
    )
    session.add(rating)
    session.flush()
    profile = profile_for_hall(session, hall_id=hall_id, default_key=PROFILE)
    if level <= profile.ratings.bad_max_level:
        notify_bad_rating(session, rating=rating, profile=profile, calendar=load_calendar(session), now=at)
    session.commit()
    return rating.id


def followup_of(session: Session, rating_id: int) -> FollowUp | None:
    session.expire_all()
    return session.scalar(select(FollowUp).where(FollowUp.rating_id == rating_id))


def hall_code(session: Session, hall_id: int) -> str:
    hall = session.get(Hall, hall_id)
    assert hall is not None
    return hall.code


def day(text: str) -> date:
    return date.fromisoformat(text)


def add_november(client: TestClient, session: Session, world: World) -> dict[str, int]:
    """The ratings the figure and exclusion tests compute by hand (clock: 2026-11-27):

    ====  ======  =====  ======  ======  =====================================
    name  day     level  weight  place   notes
    ====  ======  =====  ======  ======  =====================================
    r1    11-02   5      1       SCJGJ   case HW-F1
    r2    11-02   4      1       SCJGJ
    r3    11-03   3      0.25    SCJGJ   burst
    r4    11-03   1      1       SCJGJ   差评, called back (not rectified)
    r5    11-04   2      1       SCJGJ   差评
    c1    11-04   5      1       JJSJ    county hall
    c2    11-05   1      0.25    JJSJ    差评, burst
    p     11-05   4      1       —       provincial hall, no window/staff/department
    r0    10-15   1      1       SCJGJ   差评, before the range
    ====  ======  =====  ======  ======  =====================================
    """
    add_case(client, "HW-F1")
    ids = {
        "r1": add_rating(session, world, level=5, at=sh(2026, 11, 2, 9), case_no="HW-F1", text="=很好"),
        "r2": add_rating(session, world, level=4, at=sh(2026, 11, 2, 10)),
        "r3": add_rating(session, world, level=3, at=sh(2026, 11, 3, 9), weight=0.25, burst=True),
        "r4": add_rating(session, world, level=1, at=sh(2026, 11, 3, 10)),
        "r5": add_rating(session, world, level=2, at=sh(2026, 11, 4, 9)),
        "c1": add_rating(session, world, level=5, at=sh(2026, 11, 4, 10), county=True),
        "c2": add_rating(
            session, world, level=1, at=sh(2026, 11, 5, 9), county=True, weight=0.25, burst=True
        ),
        "p": add_rating(session, world, level=4, at=sh(2026, 11, 5, 10), placed=False),
        "r0": add_rating(session, world, level=1, at=sh(2026, 10, 15, 10)),
    }
    r4 = followup_of(session, ids["r4"])
    assert r4 is not None
    response = client.post(
        f"{FOLLOWUPS}/{r4.id}/callback", json={"result": "已联系"}, auth=world.people["clerk"]
    )
    assert response.status_code == 200, response.text
    return ids

"""Shared fixtures: every database test runs on SQLite and, when HALLWATCH_TEST_DATABASE_URL is set,
on PostgreSQL too. The schema comes from the real Alembic migrations."""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, make_url, text
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.access.service import create_user
from central.app import create_app
from central.core.actor import Actor
from central.core.clock import SHANGHAI
from central.core.config import Settings
from central.core.db import make_engine, make_session_factory
from central.core.migrate import upgrade
from central.models import Base
from central.patrols.key import generate_key_file
from central.registry.models import Department, Hall, Item, Region, ServiceWindow, Staff

PG_URL = os.environ.get("HALLWATCH_TEST_DATABASE_URL")
# pytest-xdist (`make test` runs two workers): each worker gets its own PostgreSQL database, because
# the engine fixture drops and recreates the public schema.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
# No background signal scheduler in tests (apps built from any Settings, servers started by tests):
# tests run the scheduler themselves, at the moments they choose.
os.environ.setdefault("HALLWATCH_SIGNAL_INTERVAL_SECONDS", "0")
os.environ.setdefault("HALLWATCH_PATROL_PLAN_INTERVAL_SECONDS", "0")  # likewise the day's patrol plan
os.environ.setdefault("HALLWATCH_PUBLIC_FEED_INTERVAL_SECONDS", "0")  # and the hall screens' feed pass
os.environ.setdefault("HALLWATCH_SCORE_INTERVAL_SECONDS", "0")  # and the daily scores pass
os.environ.setdefault("HALLWATCH_ANOMALY_INTERVAL_SECONDS", "0")  # and data supervision's rules
BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]


@dataclass
class FakeClock:
    """The injectable clock: tests move time explicitly."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def set_shanghai(self, year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> None:
        self.now = datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        eng = make_engine(url)
    else:
        assert PG_URL
        eng = make_engine(_worker_database(PG_URL))
        with eng.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session", autouse=True)
def _xdist_shared_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Under xdist, the directory all workers of this run share (pytest keeps the last three runs),
    for results computed once per run (tests/edge/video/hall_run.py)."""
    if XDIST_WORKER is not None:
        os.environ["HALLWATCH_TEST_SHARED_DIR"] = str(tmp_path_factory.getbasetemp().parent)


def _worker_database(url: str) -> str:
    """The URL itself, or under xdist a database of this worker's own beside it (created if missing)."""
    if XDIST_WORKER is None:
        return url
    parsed = make_url(url)
    name = f"{parsed.database}_{XDIST_WORKER}"
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}) is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.engine.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def _wipe(eng: Engine) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    with eng.begin() as conn:
        if eng.dialect.name == "postgresql":
            _truncate_used(conn, [t.name for t in tables])
        else:
            for table in tables:
                conn.execute(table.delete())


def _truncate_used(conn: Connection, tables: list[str]) -> None:
    """TRUNCATE costs a few milliseconds a table, rows or not: only the tables holding rows are
    truncated, and only the sequences a test drew from are restarted (ids start at 1 again)."""
    probe = " UNION ALL ".join(f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in tables)
    used = conn.execute(text(probe)).scalars().all()
    if used:
        conn.execute(text("TRUNCATE " + ", ".join(used) + " CASCADE"))
    drawn = conn.execute(
        text(
            "SELECT quote_ident(sequencename) FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL"
        )
    ).scalars()
    for sequence in drawn:
        conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))


@pytest.fixture
def db(engine: Engine) -> Iterator[Engine]:
    """A clean database (all rows removed before the test)."""
    _wipe(engine)
    yield engine


@pytest.fixture
def session(db: Engine) -> Iterator[Session]:
    with make_session_factory(db)() as s:
        yield s


@pytest.fixture
def clock() -> FakeClock:
    c = FakeClock(datetime(2026, 11, 27, 2, 0, tzinfo=UTC))
    return c


@pytest.fixture(scope="session")
def patrol_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The deployment's patrol draw key (`hallwatch patrol keygen`): every real central has one."""
    path = tmp_path_factory.mktemp("keys") / "patrol.key"
    generate_key_file(path)
    return path


@pytest.fixture
def settings(db: Engine, patrol_key_file: Path) -> Settings:
    return Settings(
        database_url=db.url.render_as_string(hide_password=False),
        signal_interval_seconds=0,
        patrol_key_file=patrol_key_file,
        public_feed_interval_seconds=0,
    )


ROOT_PASSWORD = "correct-horse-battery-2026"


def make_user(
    engine: Engine,
    username: str,
    *,
    role: Role = Role.SYSTEM_SUPERVISOR,
    scope: str = "*",
    password: str = "",
    now: datetime | None = None,
) -> str:
    """Create a user straight through the service (as `hallwatch users create` does); returns the password."""
    password = password or "correct-horse-battery-2026"
    with make_session_factory(engine)() as s:
        create_user(
            s,
            username=username,
            password=password,
            role=role,
            scope_code=scope,
            display_name=None,
            granted_by=None,
            now=now or datetime.now(UTC),
            actor=Actor(kind="cli", name="tests"),
        )
        s.commit()
    return password


def login(client: TestClient, username: str, password: str) -> dict[str, str]:
    """Sign in through the real token endpoint; returns the Authorization header."""
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


FORM_TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def form_token(client: TestClient, url: str = "/console/login") -> str:
    """The session's form token, read from a page's form as a browser would (central/access/csrf.py)."""
    match = FORM_TOKEN.search(client.get(url).text)
    assert match is not None, f"no form token on {url}"
    return match.group(1)


def with_form_token(client: TestClient) -> TestClient:
    """After a console sign-in: every post carries the session's form token (X-CSRF-Token), as the
    page's forms do in their hidden field."""
    client.headers["X-CSRF-Token"] = form_token(client)
    return client


class SignedIn(httpx.Auth):
    """Signs in through the real token endpoint, and again when a test moves the clock past expiry."""

    requires_response_body = True

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password
        self.token: str | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.token is None:
            yield from self._sign_in(request)
        request.headers["Authorization"] = f"Bearer {self.token}"
        response = yield request
        if response.status_code == 401:
            yield from self._sign_in(request)
            request.headers["Authorization"] = f"Bearer {self.token}"
            yield request

    def _sign_in(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        url = request.url.copy_with(path="/api/v1/auth/token", query=None)
        response = yield httpx.Request(
            "POST", url, data={"username": self.username, "password": self.password}
        )
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]


@pytest.fixture
def anon(db: Engine, settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    """A client that has not signed in."""
    with TestClient(create_app(settings, engine=db, clock=clock)) as c:
        yield c


@pytest.fixture
def client(db: Engine, settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    """A client signed in as the deployment's system supervisor (scope `*`)."""
    make_user(db, "root", password=ROOT_PASSWORD, now=clock())
    with TestClient(create_app(settings, engine=db, clock=clock)) as c:
        c.auth = SignedIn("root", ROOT_PASSWORD)
        yield c


@pytest.fixture
def registry(session: Session) -> dict[str, int]:
    """A small registry written straight through the ORM: province, city, county, one hall each."""
    province = Region(code="510000", name="四川省", level="province")
    session.add(province)
    session.flush()
    city = Region(code="510100", name="成都市", level="city", parent_id=province.id)
    session.add(city)
    session.flush()
    county = Region(code="510104", name="锦江区", level="county", parent_id=city.id)
    session.add(county)
    session.flush()
    hall = Hall(code="510000-ZWFW", name="四川省政务服务中心", region_id=province.id, level="provincial")
    county_hall = Hall(code="510104-ZWFW", name="锦江区政务服务中心", region_id=county.id, level="county")
    session.add_all([hall, county_hall])
    session.flush()
    dept = Department(code="SCJGJ", name="省市场监管局", hall_id=hall.id)
    session.add(dept)
    session.flush()
    window = ServiceWindow(code="W01", name="1号窗口", hall_id=hall.id, department_id=dept.id)
    session.add(window)
    session.flush()
    session.add(Staff(code="S001", name="张三", department_id=dept.id, window_id=window.id))
    session.add(
        Item(
            code="SCJGJ-XK-001",
            name="食品经营许可",
            department_id=dept.id,
            legal_limit_days=20,
            promised_limit_days=10,
            fee=Decimal("0"),
            basis="《食品安全法》第三十五条",
        )
    )
    session.add(
        Item(
            code="SCJGJ-XK-002",
            name="药品经营许可",
            department_id=dept.id,
            legal_limit_days=20,
            promised_limit_days=None,
            fee=Decimal("0"),
        )
    )
    session.commit()
    return {"hall": hall.id, "county_hall": county_hall.id, "county_region": county.id}


COUNTY_ITEM = "JJSCJG-XK-001"


def add_county_item(session: Session, registry: dict[str, int]) -> str:
    """A department of the county hall with its own 食品经营许可 (the provincial item's limits): a
    county case names an item of its own hall (issue #13 item 5)."""
    dept = Department(code="JJSCJG", name="锦江区市场监管局", hall_id=registry["county_hall"])
    session.add(dept)
    session.flush()
    session.add(
        Item(
            code=COUNTY_ITEM,
            name="食品经营许可",
            department_id=dept.id,
            legal_limit_days=20,
            promised_limit_days=10,
            fee=Decimal("0"),
        )
    )
    session.commit()
    return COUNTY_ITEM


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent

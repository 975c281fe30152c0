"""The scores API (issue 17 item 4): a day's ranking in rank order, limited to the caller's
jurisdiction (another jurisdiction's hall answers 404 like a missing one; a department's post user
sees their whole hall, SZ-19), one subject's month explained line by line with links and the earlier
figures a recomputation replaced, bad input 4xx; linking an account to its member of staff."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from central.access.models import User
from central.access.roles import Role
from central.audit.verify import verify
from central.cli.main import app as cli
from central.patrols.models import PatrolFinding, PatrolSession
from central.scores.daily import run_scores
from tests.central.scores.page_world import EXCLUDED_REASON, PASSWORD, SIGNAL_ID, World, build_world
from tests.central.scores.world import at
from tests.central.scores.world import build_world as build_pass_world
from tests.conftest import FakeClock, SignedIn, make_user

CLERK, COUNTY, TAXCLERK = (SignedIn(name, PASSWORD) for name in ("clerk", "county", "taxclerk"))


@pytest.fixture
def world(
    client: TestClient, db: Engine, session: Session, registry: dict[str, int], clock: FakeClock
) -> World:
    """After `client` (root exists): the two halls, their users and their November scores."""
    return build_world(db, session, registry, clock())


def _get(client: TestClient, url: str, auth: Any = None, status: int = 200) -> Any:
    response = client.get(url, auth=auth) if auth else client.get(url)
    assert response.status_code == status, response.text
    return response.json()


def _codes(body: dict[str, Any]) -> list[tuple[int, str]]:
    return [(row["rank"], row["subject"]["code"]) for row in body["rows"]]


def test_ranking_is_in_rank_order_with_shared_ranks_on_the_last_scored_day(
    client: TestClient, world: World
) -> None:
    body = _get(client, "/api/v1/scores?level=staff")
    assert body["day"] == "2026-11-26" and body["selection"] == {
        "kind": "deployment",
        "code": "*",
        "name": "全部辖区",
    }
    assert _codes(body) == [(1, "S002"), (1, "S003"), (3, "S101"), (4, "S001")]
    first, last = body["rows"][0], body["rows"][-1]
    assert (
        first["department"] == {"code": "SWJ", "name": "省税务局"} and first["hall"]["code"] == "510000-ZWFW"
    )
    assert last["month_score"] == 86 and last["day_points"] == -4
    assert last["dimensions"]["time_limits"] == 5 and last["dimensions"]["satisfaction"] == 5
    assert last["revision"] == 1 and body["total"] == 4
    [scheme] = body["schemes"]
    assert scheme["profile_key"] == "sichuan-2011" and scheme["total"] == 100
    assert [d["name"] for d in scheme["dimensions"]][:3] == ["政务公开", "流程规范", "期限合法"]
    # The hall whose profile has no scoring scheme is named, not ranked.
    assert body["unscored_halls"] == [
        {"code": "230900-ZWFW", "name": "七台河市政务服务中心", "profile_key": "qitaihe-2008"}
    ]

    halls = _get(client, "/api/v1/scores?level=hall&day=2026-11-26")
    assert _codes(halls) == [(1, "510000-ZWFW"), (2, "510104-ZWFW")]
    windows = _get(client, "/api/v1/scores?level=window&hall=510000-ZWFW&day=2026-11-25")
    assert _codes(windows) == [(1, "510000-ZWFW:W02"), (2, "510000-ZWFW:W01")]
    assert (
        windows["rows"][1]["month_score"] == 90 and windows["rows"][1]["revision"] == 2
    )  # the current figure
    paged = _get(client, "/api/v1/scores?level=staff&page=2&page_size=3")
    assert _codes(paged) == [(4, "S001")] and paged["total"] == 4
    assert _get(client, "/api/v1/scores?level=staff&day=2026-10-01")["rows"] == []


def test_summary_averages_the_halls_of_the_selection(client: TestClient, world: World) -> None:
    body = _get(client, "/api/v1/scores/summary")
    assert [(p["day"], p["month_score"]) for p in body["trend"]] == [
        ("2026-11-24", 99.5),
        ("2026-11-25", 96.0),
        ("2026-11-26", 95.75),
    ]
    [breakdown] = body["breakdown"]
    assert breakdown["halls"] == 2 and breakdown["month_score"] == 95.75
    by_code = {d["code"]: d for d in breakdown["dimensions"]}
    assert by_code["time_limits"] == {"code": "time_limits", "name": "期限合法", "weight": 14, "score": 12.25}
    county = _get(client, "/api/v1/scores/summary?region=510104&day=2026-11-25")
    assert county["selection"]["name"] == "锦江区" and [p["month_score"] for p in county["trend"]] == [99, 97]


def test_jurisdiction_limits_every_answer(client: TestClient, world: World) -> None:
    county = _get(client, "/api/v1/scores?level=staff", COUNTY)
    assert county["selection"] == {"kind": "region", "code": "510104", "name": "锦江区"}
    assert _codes(county) == [(1, "S101")] and county["unscored_halls"] == []
    for url in (
        "/api/v1/scores?hall=510000-ZWFW",
        "/api/v1/scores?region=510000",
        "/api/v1/scores/summary?hall=510000-ZWFW",
        "/api/v1/scores/staff/S001",
        "/api/v1/scores/department/SCJGJ",
        "/api/v1/scores/hall/510000-ZWFW",
        "/api/v1/scores/window/510000-ZWFW:W01",
    ):
        refused = client.get(url, auth=COUNTY)
        missing = client.get(
            url.replace("510000", "519999").replace("S001", "S999").replace("SCJGJ", "NOPE"), auth=COUNTY
        )
        assert refused.status_code == missing.status_code == 404, (url, refused.text)
    assert _get(client, "/api/v1/scores/staff/S101", COUNTY)["month_score"] == 95
    assert (
        _get(client, "/api/v1/scores/window/W01", COUNTY)["subject"]["code"] == "510104-ZWFW:W01"
    )  # the one it sees

    # A department's post user sees the whole of their hall (SZ-19), never another hall.
    clerk = _get(client, "/api/v1/scores?level=staff", CLERK)
    assert clerk["selection"]["code"] == "510000-ZWFW"
    assert _codes(clerk) == [(1, "S002"), (1, "S003"), (3, "S001")]
    assert _get(client, "/api/v1/scores/staff/S002", TAXCLERK)["month_score"] == 100
    assert _get(client, "/api/v1/scores/staff/S001", TAXCLERK)["month_score"] == 86
    assert client.get("/api/v1/scores?hall=510104-ZWFW", auth=CLERK).status_code == 404
    assert client.get("/api/v1/scores/staff/S101", auth=TAXCLERK).status_code == 404
    assert client.get("/api/v1/scores?level=staff").status_code == 200
    assert TestClient(client.app).get("/api/v1/scores").status_code == 401


def test_a_subjects_month_explains_every_point(client: TestClient, world: World) -> None:
    body = _get(client, "/api/v1/scores/staff/S001")  # the last scored month by default
    assert body["subject"] == {
        "level": "staff",
        "code": "S001",
        "name": "张三",
        "hall": {"code": "510000-ZWFW", "name": "四川省政务服务中心"},
        "department": {"code": "SCJGJ", "name": "省市场监管局"},
    }
    assert body["month"] == "2026-11" and body["scored"] and body["total"] == 100
    assert body["last_day"] == "2026-11-26" and body["month_score"] == 86
    assert [(p["day"], p["month_score"], p["day_points"]) for p in body["trend"]] == [
        ("2026-11-24", 100, 0),
        ("2026-11-25", 90, -10),
        ("2026-11-26", 86, -4),
    ]
    dims = {d["code"]: (d["name"], d["weight"], d["score"]) for d in body["dimensions"]}
    assert dims["time_limits"] == ("期限合法", 14, 5) and dims["satisfaction"] == ("满意度", 10, 5)
    assert len(dims) == 9 and sum(d[2] for d in dims.values()) == body["month_score"]
    lines = [(x["day"], x["rule_label"], x["dimension_name"], x["points"], x["link"]) for x in body["lines"]]
    assert lines == [
        ("2026-11-25", "红灯", "期限合法", -10, f"/console/signals/{SIGNAL_ID}"),
        ("2026-11-26", "差评", "满意度", -5, f"/console/ratings/followups/{world.followup_id}"),
        ("2026-11-26", "提前办结", "期限合法", 1, None),
    ]
    assert body["lines"][0]["explanation"] == "红灯 1 件 × −10 = −10"
    assert 100 + sum(x["points"] for x in body["lines"]) == body["month_score"]  # the lines add up
    [earlier] = body["earlier"]
    assert earlier["day"] == "2026-11-25" and earlier["revision"] == 1 and earlier["month_score"] == 80
    assert earlier["reason"] == EXCLUDED_REASON and earlier["now_score"] == 90
    assert earlier["superseded_at"].startswith("2026-11-26T03:00")

    empty = _get(client, "/api/v1/scores/staff/S001?month=2026-10")
    assert empty["trend"] == [] and empty["lines"] == [] and empty["month_score"] is None and empty["scored"]
    assert [d["score"] for d in empty["dimensions"]] == [None] * 9
    hall = _get(client, "/api/v1/scores/hall/510000-ZWFW")
    assert hall["subject"]["department"] is None and hall["month_score"] == 96.5
    unscored = _get(client, "/api/v1/scores/hall/230900-ZWFW")
    assert (
        unscored["scored"] is False
        and unscored["profile_key"] == "qitaihe-2008"
        and unscored["dimensions"] == []
    )


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("/api/v1/scores?level=boss", "'staff', 'window', 'department' or 'hall'"),
        ("/api/v1/scores?day=2026-13-45", "date"),
        ("/api/v1/scores?day=1999-12-31", "dates must lie between"),
        ("/api/v1/scores?hall=510000-ZWFW&region=510000", "give hall or region, not both"),
        ("/api/v1/scores?region=51", "pattern"),
        ("/api/v1/scores?page_size=0", "greater than or equal to 1"),
        ("/api/v1/scores?page_size=9999", "page_size is at most"),
        ("/api/v1/scores?colour=red", "Extra inputs are not permitted"),
        ("/api/v1/scores/boss/S001", "'staff', 'window', 'department' or 'hall'"),
        ("/api/v1/scores/staff/S001?month=2026-13", "pattern"),
        ("/api/v1/scores/staff/S001?month=11-2026", "pattern"),
        ("/api/v1/scores/staff/S0%2001", "pattern"),
        ("/api/v1/scores/window/W01", "write HALL:W01"),  # two halls have a W01
    ],
)
def test_bad_input_is_a_clear_422(client: TestClient, world: World, url: str, words: str) -> None:
    response = client.get(url)
    assert response.status_code == 422, response.text
    assert words in response.text


def test_an_account_is_linked_to_its_member_of_staff(
    client: TestClient, db: Engine, session: Session, world: World
) -> None:
    linked = client.put("/api/v1/users/taxclerk/staff", json={"staff": "S002"})
    assert linked.status_code == 200, linked.text
    assert linked.json() == {"username": "taxclerk", "staff": "S002"}
    outside = client.put("/api/v1/users/taxclerk/staff", json={"staff": "S001"})  # SCJGJ, not SWJ
    assert outside.status_code == 422 and "outside the jurisdiction of taxclerk" in outside.text
    taken = client.put("/api/v1/users/root/staff", json={"staff": "S002"})
    assert taken.status_code == 422 and "already belongs to the account taxclerk" in taken.text
    assert client.put("/api/v1/users/taxclerk/staff", json={"staff": "S999"}).status_code == 422
    assert client.put("/api/v1/users/nobody/staff", json={"staff": "S002"}).status_code == 404
    assert client.put("/api/v1/users/taxclerk/staff", json={}).status_code == 422  # say null to unlink
    # An administrator of the county cannot reach the province's accounts; an inspector links nobody.
    make_user(db, "countyadmin", role=Role.SYSADMIN, scope="region:510104", password=PASSWORD)
    county_admin = SignedIn("countyadmin", PASSWORD)
    assert client.put("/api/v1/users/clerk/staff", json={"staff": None}, auth=county_admin).status_code == 404
    assert client.put("/api/v1/users/clerk/staff", json={"staff": None}, auth=COUNTY).status_code == 403
    assert client.put("/api/v1/users/taxclerk/staff", json={"staff": None}).json()["staff"] is None
    session.expire_all()
    assert session.scalar(select(User.staff_id).where(User.username == "taxclerk")) is None
    assert verify(session).ok

    env = {"HALLWATCH_DATABASE_URL": db.url.render_as_string(hide_password=False)}
    runner = CliRunner()
    done = runner.invoke(cli, ["users", "link-staff", "taxclerk", "S003"], env=env)
    assert done.exit_code == 0, done.output
    refused = runner.invoke(cli, ["users", "link-staff", "taxclerk", "S101"], env=env)
    assert refused.exit_code == 2 and "outside the jurisdiction" in refused.output
    assert runner.invoke(cli, ["users", "link-staff", "taxclerk"], env=env).exit_code == 2
    session.expire_all()
    staff_id = session.scalar(select(User.staff_id).where(User.username == "taxclerk"))
    assert staff_id == world.ids["S003"]
    assert runner.invoke(cli, ["users", "link-staff", "taxclerk", "--clear"], env=env).exit_code == 0


def test_the_daily_pass_rows_read_back_with_links_that_open(
    client: TestClient, session: Session, registry: dict[str, int]
) -> None:
    """The real pass (central.scores.daily) over records of every linkable kind: its rows read back
    through this API, the lines add up to the score, and every link opens a console page."""
    pass_world = build_pass_world(session, registry)
    case = pass_world.case(staff=pass_world.s001, window=pass_world.w01)
    pass_world.signal(reason="light_red", colour="red", day=date(2026, 11, 3), case=case)
    bad = pass_world.rating(level=1, day=date(2026, 11, 4), staff=pass_world.s001, window=pass_world.w01)
    pass_world.follow_up(rating=bad, due=date(2026, 11, 6))
    pass_world.absence(window=pass_world.w01, day=date(2026, 11, 5))
    finding = pass_world.patrol_finding(window=pass_world.w01, day=date(2026, 11, 6), category="phone")
    patrol = session.get(PatrolSession, session.get(PatrolFinding, finding).session_id)  # type: ignore[union-attr]
    assert patrol is not None
    patrol.state = "complete"  # world.py writes "ended", which the patrol page does not know
    session.commit()
    run_scores(
        session,
        now=at(date(2026, 11, 12), 10),
        default_profile_key="sichuan-2011",
        instance="central-test",
        delay=timedelta(hours=1),
        close_working_day=5,
    )
    sign_in = client.post(
        "/console/login", data={"username": "root", "password": PASSWORD}, follow_redirects=False
    )
    assert sign_in.status_code == 303
    kinds: set[str] = set()
    for url in (
        "/api/v1/scores/staff/S001?month=2026-11",
        "/api/v1/scores/window/510000-ZWFW:W01?month=2026-11",
    ):
        body = _get(client, url)
        assert body["last_day"] == "2026-11-11" and body["lines"]
        assert abs(100 + sum(x["points"] for x in body["lines"]) - body["month_score"]) < 1e-6
        for line in body["lines"]:
            kinds.add(line["source_kind"])
            if line["source_kind"] in {"signal", "rating", "follow_up", "absence", "patrol_finding"}:
                assert line["link"], line
                assert client.get(line["link"]).status_code == 200, line
    assert {"signal", "follow_up", "absence", "patrol_finding"} <= kinds, kinds
    ranked = _get(client, "/api/v1/scores?level=staff&hall=510000-ZWFW")
    assert ranked["day"] == "2026-11-11" and ranked["rows"][-1]["subject"]["code"] == "S001"

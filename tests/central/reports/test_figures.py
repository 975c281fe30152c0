"""The monthly report's figures on the hand-built November (world.py): every section counted by hand,
per jurisdiction; the score table from ScoreDay rows (and its absence said, not failed); the rule of
the departments that need attention; and a report sliced from the deployment's facts equals one
computed for its scope alone (what the closed-month pass relies on)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from central.calendar.service import load_calendar
from central.reports.attention import DepartmentMetrics, departments_needing_attention
from central.reports.figures import NO_SCORES, assemble, gather, report_data
from central.reports.period import ReportInputError, parse_month, report_scope
from central.reports.schemas import MonthlyReportData
from tests.central.reports.world import (
    EXPECTED_ABSENCES,
    EXPECTED_COUNTY_VOLUME,
    EXPECTED_INVESTIGATIONS,
    EXPECTED_LIGHTS,
    EXPECTED_RATINGS,
    EXPECTED_SIGNALS,
    EXPECTED_VOLUME,
    MONTH,
    NOW,
    World,
)

PROFILE = "sichuan-2011"


def data_for(session: Session, scope: str, month: str = MONTH) -> MonthlyReportData:
    return report_data(
        session,
        month=month,
        scope=report_scope(session, scope),
        now=NOW,
        calendar=load_calendar(session),
        default_profile=PROFILE,
    )


def pick(model: object, names: dict[str, object]) -> dict[str, object]:
    return {name: getattr(model, name) for name in names}


def test_the_deployment_month_counted_by_hand(session: Session, world: World) -> None:
    data = data_for(session, "*")
    assert (data.month, data.scope_kind, data.scope_code, data.scope_name) == (
        MONTH,
        "deployment",
        "*",
        "全部辖区",
    )
    assert data.complete and data.data_until.isoformat() == "2026-11-30"
    assert pick(data.volume.total, EXPECTED_VOLUME) == EXPECTED_VOLUME
    assert data.volume.total.on_time_rate == 0.75
    assert pick(data.lights.total, EXPECTED_LIGHTS) == EXPECTED_LIGHTS
    assert pick(data.signals.total, EXPECTED_SIGNALS) == EXPECTED_SIGNALS
    assert pick(data.investigations, EXPECTED_INVESTIGATIONS) == EXPECTED_INVESTIGATIONS
    assert data.investigations.on_time_rate == pytest.approx(1 / 3, abs=1e-4)
    assert pick(data.ratings.total, EXPECTED_RATINGS) == EXPECTED_RATINGS
    assert data.ratings.total.satisfaction_rate == pytest.approx(4 / 6, abs=1e-4)  # 5, 4, 5 and 3 of six
    assert (data.ratings.total.callback_rate, data.ratings.total.rectified_rate) == (0.5, 0.5)
    assert pick(data.absences.total, EXPECTED_ABSENCES) == EXPECTED_ABSENCES
    patrols = data.patrols
    assert (patrols.required, patrols.done, patrols.rate, patrols.findings_total) == (2, 1, 0.5, 3)
    assert [(b.code, b.required, b.done, b.short_days) for b in patrols.bodies] == [("510000", 2, 1, 1)]
    assert [
        (f.category, f.label, f.total, f.confirmed, f.dismissed, f.pending) for f in patrols.findings
    ] == [
        ("phone", "玩手机", 2, 1, 0, 1),
        ("absent", "离岗", 1, 0, 1, 0),
    ]


def test_departments_and_items(session: Session, world: World) -> None:
    data = data_for(session, "*")
    rows = {r.code: r for r in data.volume.by_department}
    assert set(rows) == {"SCJGJ", "SGAT", "JJSCJG"}  # departments without cases that month have no row
    p1 = rows["SCJGJ"]
    assert (p1.received, p1.accepted, p1.closed, p1.open_at_end, p1.decided, p1.on_time) == (3, 3, 2, 2, 2, 1)
    assert (p1.hall_code, p1.on_time_rate) == ("510000-ZWFW", 0.5)
    assert [r.code for r in data.volume.by_department] == ["SCJGJ", "SGAT", "JJSCJG"]  # most received first
    items = {r.code: r for r in data.volume.by_item}
    assert items["SGAT-XK-001"].department_name == "省公安厅" and items["SGAT-XK-001"].received == 3
    lights = {r.code: (r.green, r.yellow, r.red, r.unknown) for r in data.lights.by_department}
    assert lights == {"SCJGJ": (1, 0, 1, 0), "SGAT": (0, 1, 0, 1), "JJSCJG": (0, 1, 0, 0)}
    signals = {r.code: r for r in data.signals.by_department}
    assert (
        signals["SCJGJ"].raised,
        signals["SCJGJ"].corrected,
        signals["SCJGJ"].median_hours_to_correction,
    ) == (2, 2, 62.0)
    assert (signals["JJSCJG"].escalated, signals["JJSCJG"].raised_green) == (1, 1)
    ratings = {r.code: (r.count, r.bad_count, r.callback_rate) for r in data.ratings.by_department}
    assert ratings == {"SCJGJ": (3, 1, 1.0), "SGAT": (2, 1, 0.0), "JJSCJG": (1, 0, None)}
    absences = {r.code: (r.confirmed, r.dismissed, r.pending) for r in data.absences.by_department}
    assert absences == {"SCJGJ": (2, 1, 0), "JJSCJG": (0, 0, 1)}


def test_a_county_and_a_hall_see_only_their_own(session: Session, world: World) -> None:
    county = data_for(session, "510104")
    assert (county.scope_kind, county.scope_name, county.scope_level) == ("region", "锦江区", "county")
    assert pick(county.volume.total, EXPECTED_COUNTY_VOLUME) == EXPECTED_COUNTY_VOLUME
    assert (county.signals.total.raised, county.signals.total.escalated, county.signals.total.corrected) == (
        2,
        1,
        0,
    )
    assert (
        county.investigations.assigned,
        county.investigations.reported,
        county.investigations.open_past_due,
    ) == (2, 0, 1)
    assert (county.ratings.total.count, county.absences.total.pending) == (1, 1)
    assert (
        county.patrols.bodies == [] and county.patrols.findings_total == 1
    )  # the province's body is above it
    hall = data_for(session, "510000-ZWFW")
    assert (hall.scope_kind, hall.scope_name) == ("hall", "四川省政务服务中心")
    assert (hall.volume.total.received, hall.volume.total.open_at_end) == (6, 4)
    city = data_for(session, "510100")  # the city holds the county's hall
    assert city.volume.total.model_dump(exclude={"name"}) == county.volume.total.model_dump(exclude={"name"})


def test_the_score_table_and_its_change_against_last_month(session: Session, world: World) -> None:
    scores = data_for(session, "*").scores
    assert scores.available and scores.note is None
    assert (scores.day.isoformat(), scores.last_month_day.isoformat()) == ("2026-11-30", "2026-10-31")  # type: ignore[union-attr]
    departments = [(r.rank, r.code, r.score, r.last_month, r.change) for r in scores.departments.rows]
    assert departments == [
        (1, "SSWJ", 99.9, None, None),
        (2, "SWJW", 97.0, None, None),
        (3, "SGAT", 95.5, None, None),
        (4, "SCJGJ", 88.0, 85.0, 3.0),  # the last day's current row, not the superseded 10 or the 29th's 50
        (5, "JJSCJG", 70.0, 75.0, -5.0),
    ]
    staff = [(r.code, r.name, r.department_name, r.score, r.change) for r in scores.staff.rows]
    assert staff == [
        ("S002", "李四", "省公安厅", 99.0, None),
        ("S001", "张三", "省市场监管局", 90.0, -2.0),
        ("S003", "王五", "锦江区市场监管局", 60.0, None),
    ]
    county = data_for(session, "510104").scores
    assert [r.code for r in county.departments.rows] == ["JJSCJG"] and county.departments.count == 1


def test_departments_that_need_attention(session: Session, world: World) -> None:
    attention = data_for(session, "*").attention
    assert "绩效得分最低的 3 个部门" in attention.rule
    rows = [(r.code, r.reasons) for r in attention.rows]
    assert rows == [
        (
            "JJSCJG",
            ["绩效得分偏低（70.0 分）", "红色纠错较多（1 件）"],
        ),  # lowest score and an escalated yellow
        ("SCJGJ", ["绩效得分偏低（88.0 分）", "红色纠错较多（1 件）"]),  # a red raised
        ("SGAT", ["绩效得分偏低（95.5 分）"]),
    ]


def test_the_attention_rule_on_its_own() -> None:
    def dept(code: str, score: float | None, red: int, decided: int, rate: float | None) -> DepartmentMetrics:
        return DepartmentMetrics(code, code, "H", score, red, decided, rate)

    metrics = {
        1: dept("A", 90, 0, 10, 0.5),  # lowest on-time rate
        2: dept("B", 95, 5, 10, 1.0),  # most red
        3: dept("C", 99, 0, 3, 0.0),  # too few decided to judge its rate
        4: dept("D", None, 0, 10, 0.9),
        5: dept("E", 80, 2, 10, 0.7),
        6: dept("F", 98, 0, 10, 1.0),
        7: dept("G", 97, 0, 10, 0.95),
    }
    rows = {r.code: r.reasons for r in departments_needing_attention(metrics).rows}
    assert set(rows) == {"A", "B", "D", "E"}  # G's 95% is the fourth lowest rate
    assert rows["E"] == ["绩效得分偏低（80.0 分）", "红色纠错较多（2 件）", "按时办结率偏低（70.0%）"]
    assert rows["A"] == ["绩效得分偏低（90.0 分）", "按时办结率偏低（50.0%）"]
    assert rows["D"] == ["按时办结率偏低（90.0%）"] and "C" not in rows and "F" not in rows
    assert rows["B"] == ["绩效得分偏低（95.0 分）", "红色纠错较多（5 件）"]
    assert [r.code for r in departments_needing_attention(metrics).rows] == ["E", "A", "B", "D"]


def test_no_score_rows_is_said_not_failed(session: Session, client: object, clock: object) -> None:
    from tests.central.reports.world import build_world

    clock.now = NOW  # type: ignore[attr-defined]
    build_world(session, with_scores=False)
    scores = data_for(session, "*").scores
    assert (scores.available, scores.note, scores.departments.rows, scores.day) == (
        False,
        NO_SCORES,
        [],
        None,
    )
    attention = data_for(session, "*").attention.rows  # the other two rules still apply
    assert [(r.code, r.reasons) for r in attention] == [
        ("SCJGJ", ["红色纠错较多（1 件）"]),
        ("JJSCJG", ["红色纠错较多（1 件）"]),
    ]


@pytest.mark.parametrize("scope", ["510000", "510100", "510104", "510000-ZWFW", "510104-ZWFW"])
def test_a_report_sliced_from_the_deployment_equals_its_own(
    session: Session, world: World, scope: str
) -> None:
    """The closed-month pass gathers the deployment once and assembles every region's report from it."""
    month = parse_month(MONTH, today=NOW.date())
    facts = gather(
        session,
        month=month,
        within=report_scope(session, "*"),
        now=NOW,
        calendar=load_calendar(session),
        default_profile=PROFILE,
    )
    own = data_for(session, scope)
    sliced = assemble(
        facts,
        scope=report_scope(session, scope),
        scope_name=own.scope_name,
        scope_level=own.scope_level,
        computed_at=NOW,
    )
    assert sliced == own


@pytest.mark.parametrize(
    ("month", "status"),
    [
        ("2026-13", 422),
        ("26-11", 422),
        ("2026-1", 422),
        ("1999-12", 422),
        ("2027-01", 422),
        ("2026-11x", 422),
    ],
)
def test_bad_months_are_refused(month: str, status: int) -> None:
    with pytest.raises(ReportInputError) as raised:
        parse_month(month, today=NOW.date())
    assert raised.value.status_code == status and raised.value.zh


def test_last_month_by_default_and_the_running_month_allowed() -> None:
    assert parse_month(None, today=NOW.date()).text == "2026-11"
    assert parse_month("2026-12", today=NOW.date()).last.isoformat() == "2026-12-31"


def test_the_running_month_is_not_complete(session: Session, world: World) -> None:
    data = data_for(session, "*", month="2026-12")
    assert not data.complete and data.data_until.isoformat() == "2026-12-03"
    assert data.volume.total.closed == 1  # case i, closed on 1 December


@pytest.mark.parametrize(
    ("scope", "status"), [("nowhere", 404), ("SCJGJ", 422), ("", 422), ("bogus:510000", 422)]
)
def test_bad_scopes_are_refused(session: Session, world: World, scope: str, status: int) -> None:
    with pytest.raises(ReportInputError) as raised:
        report_scope(session, scope)
    assert raised.value.status_code == status

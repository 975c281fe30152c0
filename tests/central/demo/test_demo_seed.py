"""The demo dataset goes in through the production paths and covers every state and light."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.cases.lifecycle import CaseStatus
from central.cases.models import Case
from central.complaints.models import Complaint
from central.core.clock import shanghai_date, to_utc
from central.demo.accounts import DEMO_HALL
from central.demo.counter_days import COUNTER_DAYS
from central.demo.history import HistorySummary, seed_history
from central.demo.seed import seed_demo
from central.demo.supervision import seed_supervision
from central.demo.supervision_modes import seed_supervision_modes
from central.dualtrack.models import DualTrackJudgement
from central.ratings.models import FollowUp, KeypadPress, Rating
from central.registry.models import ServiceWindow
from central.sampling.models import SampleCase
from central.scores.daily import run_scores
from central.scores.models import ScoreLine
from central.signals.models import Signal
from central.video.models import AbsenceEvent
from tests.conftest import ROOT_PASSWORD, _wipe, login, make_user


def test_demo_seed_covers_every_state_and_light(client: TestClient, session: Session, clock) -> None:
    summary = seed_demo(session, now=clock(), default_profile_key="sichuan-2011", cases=400)
    assert summary.halls == 7 and summary.items >= 50 and summary.cases == 400
    statuses = set(session.scalars(select(Case.status).distinct()))
    assert statuses == {s.value for s in CaseStatus}
    assert session.scalar(select(func.count()).where(Case.paused_since.is_not(None))) > 0
    lights = client.get("/api/v1/cases/lights/summary").json()
    assert lights["green"] > 0 and lights["yellow"] > 0 and lights["red"] > 0
    page = client.get("/api/v1/cases", params={"status": "completed", "page_size": 500}).json()
    on_time = {c["finished_on_time"] for c in page["items"]}
    assert on_time == {True, False}


def test_demo_supervision_fills_the_signal_ledger_and_approval_pages(
    client: TestClient, anon: TestClient, db, session: Session, clock
) -> None:
    seed_demo(session, now=clock(), default_profile_key="sichuan-2011", cases=400)
    for username, role, scope in [
        ("sichuan", Role.INSPECTOR, "region:510000"),
        ("jinjiang", Role.INSPECTOR, "region:510104"),
        ("clerk", Role.POST_USER, "department:510104-SCJG"),
    ]:
        make_user(db, username, role=role, scope=scope, password=ROOT_PASSWORD, now=clock())
    summary = seed_supervision(
        session,
        now=clock(),
        default_profile="sichuan-2011",
        inspector="sichuan",
        county_inspector="jinjiang",
        clerk="clerk",
    )
    assert summary.signals > 10 and summary.investigations == 1 and summary.approvals == 1
    assert client.get("/api/v1/ledger").json()["total"] == summary.signals
    inbox = anon.get(
        "/api/v1/approvals", params={"inbox": "true"}, headers=login(anon, "sichuan", ROOT_PASSWORD)
    )
    assert [a["kind"] for a in inbox.json()] == ["case_event_void"]
    county = login(anon, "jinjiang", ROOT_PASSWORD)
    assert anon.get("/api/v1/investigations", headers=county).json()["total"] == 1


def _seed_with_history(db: Engine, session: Session, now: datetime) -> HistorySummary:
    seed_demo(session, now=now, default_profile_key="sichuan-2011", cases=400)
    make_user(db, "handler", password=ROOT_PASSWORD, now=now)
    make_user(db, "sichuan", role=Role.INSPECTOR, scope="region:510000", password=ROOT_PASSWORD, now=now)
    return seed_history(
        session,
        now=now,
        default_profile="sichuan-2011",
        live_hall=DEMO_HALL,
        live_windows=4,
        handler="handler",
        reviewer="sichuan",
    )


def test_demo_history_fills_ratings_followups_and_absences(
    client: TestClient, db: Engine, session: Session, clock
) -> None:
    now = clock()
    today = shanghai_date(now)
    summary = _seed_with_history(db, session, now)
    assert summary.days >= 35 and summary.ratings > 1000
    figures = client.get(
        "/api/v1/ratings/figures",
        params={"by": "day", "from": str(today - timedelta(days=60)), "to": str(today)},
    ).json()
    days = {date.fromisoformat(row["key"]) for row in figures["rows"] if row["count"] > 0}
    assert len(days) == summary.days  # every working day has its bar, not just today's
    assert figures["total"]["count"] == summary.ratings and figures["total"]["bad_count"] > 0
    assert 0.85 < figures["total"]["satisfaction_rate"] < 0.99  # mostly satisfied, a few 差评
    bound = session.scalar(select(func.count()).where(Rating.case_id.is_not(None)))
    assert 0 < bound < summary.ratings  # bound to served cases, and window ratings besides
    assert {"open", "called_back", "rectified", "closed"} <= set(summary.followups)
    assert summary.bad == sum(summary.followups.values()) and summary.overdue > 0
    assert summary.absences["confirmed"] > 0 and summary.absences["dismissed"] > 0
    absences = session.scalars(select(AbsenceEvent)).all()
    assert len({shanghai_date(a.started_at) for a in absences}) == len(absences)  # on different days
    assert {shanghai_date(a.started_at) for a in absences} <= days  # on working days
    signals = session.scalar(select(func.count()).where(Signal.dedupe_key.like("absence:%")))
    assert signals == summary.absences["confirmed"]  # raised by the review itself, once each
    _assert_nothing_after(session, now)


def _assert_nothing_after(session: Session, now: datetime) -> None:
    moments = [
        session.scalar(select(func.max(Rating.rated_at))),
        session.scalar(select(func.max(KeypadPress.received_at))),
        session.scalar(select(func.max(FollowUp.opened_at))),
        session.scalar(select(func.max(FollowUp.callback_at))),
        session.scalar(select(func.max(FollowUp.rectified_at))),
        session.scalar(select(func.max(FollowUp.closed_at))),
        session.scalar(select(func.max(AbsenceEvent.ended_at))),
        session.scalar(select(func.max(AbsenceEvent.reviewed_at))),
    ]
    assert all(m is not None and to_utc(m) <= now for m in moments), moments


def test_demo_history_is_deterministic(db: Engine, session: Session, clock) -> None:
    first = _seed_with_history(db, session, clock())
    levels = session.execute(select(Rating.rated_at, Rating.level).order_by(Rating.rated_at, Rating.id)).all()
    session.close()
    _wipe(db)
    again = _seed_with_history(db, session, clock())
    assert again == first
    assert (
        session.execute(select(Rating.rated_at, Rating.level).order_by(Rating.rated_at, Rating.id)).all()
        == levels
    )


def test_demo_history_is_scored_and_last_month_reported(
    client: TestClient, db: Engine, session: Session, clock
) -> None:
    """What `make demo` runs after the history: the scores pass over last month and this one, so the
    rankings, explained lines and last month's report are there on first start."""
    now = clock()
    _seed_with_history(db, session, now)
    report = run_scores(
        session,
        now=now,
        default_profile_key="sichuan-2011",
        instance="demo",
        delay=timedelta(hours=1),
        close_working_day=5,
    )
    assert report.days and all(run.computed for run in report.days) and report.stopped is None
    assert report.days[0].day == (shanghai_date(now).replace(day=1) - timedelta(days=1)).replace(day=1)
    rules = set(session.scalars(select(ScoreLine.rule_code).distinct()))
    assert {"satisfaction", "confirmed_absence"} <= rules
    headers = login(client, "sichuan", ROOT_PASSWORD)
    ranking = client.get("/api/v1/scores", params={"level": "staff"}, headers=headers)
    assert ranking.status_code == 200 and ranking.json()["rows"]
    last_month = (shanghai_date(now).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    monthly = client.get(
        "/api/v1/reports/monthly", params={"month": last_month, "scope": "510000"}, headers=headers
    )
    assert monthly.status_code == 200, monthly.text


def test_demo_supervision_modes_show_sampling_anomalies_dualtrack_and_complaints(
    client: TestClient, db: Engine, session: Session, clock
) -> None:
    """What `make demo` seeds for issue 18 before its signal pass: last month's sample with three
    reviews (one 不合规 with its signal), the anomaly rules' hits over the seeded log (the bunched
    pauses of the history and the hour W04's camera saw nobody while cases were entered), five
    counter days judged for dual-track (W02 under-recording: flagged each day, with its signal; the
    others clear) and four complaints (one undecided past its last day: its yellow from the pass)."""
    now = clock()
    seed_demo(session, now=now, default_profile_key="sichuan-2011", cases=400)
    for username, role, scope in [
        ("sichuan", Role.INSPECTOR, "region:510000"),
        ("jinjiang", Role.INSPECTOR, "region:510104"),
        ("clerk", Role.POST_USER, "department:510104-SCJG"),
    ]:
        make_user(db, username, role=role, scope=scope, password=ROOT_PASSWORD, now=now)
    modes = seed_supervision_modes(
        session,
        now=now,
        default_profile="sichuan-2011",
        anomaly_days=35,
        live_hall=DEMO_HALL,
        live_windows=4,
        inspector="sichuan",
    )
    seed_supervision(
        session,
        now=now,
        default_profile="sichuan-2011",
        inspector="sichuan",
        county_inspector="jinjiang",
        clerk="clerk",
    )
    inspector = login(client, "sichuan", ROOT_PASSWORD)

    (draw,) = client.get("/api/v1/sampling/draws", headers=inspector).json()
    assert draw["month"] == "2026-10" and draw["sample_size"] == modes.sample_size > 0
    reviewed = session.scalars(select(SampleCase).where(SampleCase.finding.is_not(None))).all()
    assert sorted(c.finding for c in reviewed) == ["compliant", "compliant", "noncompliant"]
    (bad,) = [c for c in reviewed if c.finding == "noncompliant"]
    signal = session.get(Signal, bad.signal_id)
    assert signal is not None and (signal.origin, signal.reason_code) == ("sampling", bad.reason_code)

    hits = client.get("/api/v1/anomalies/hits", params={"page_size": 200}, headers=inspector).json()
    rules = {hit["rule"] for hit in hits["items"]}
    assert {"pause_before_due", "unseen_acceptance"} <= rules and hits["total"] == sum(modes.hits.values())
    (unseen,) = [hit for hit in hits["items"] if hit["rule"] == "unseen_acceptance"]
    assert (unseen["hall_code"], unseen["window_code"], unseen["evidence"]["cases"]) == (DEMO_HALL, "W04", 2)

    judged = session.execute(
        select(ServiceWindow.code, DualTrackJudgement.outcome, DualTrackJudgement.signal_id).join(
            ServiceWindow, ServiceWindow.id == DualTrackJudgement.window_id
        )
    ).all()
    assert len(judged) == 4 * COUNTER_DAYS == modes.counter.window_days
    assert {(code, outcome) for code, outcome, _signal in judged if outcome == "flagged"} == {
        ("W02", "flagged")
    }
    assert sum(1 for code, outcome, signal_id in judged if code == "W02" and signal_id) == COUNTER_DAYS
    assert {outcome for code, outcome, _signal in judged if code != "W02"} == {"clear"}
    page = client.get("/api/v1/dualtrack/judgements", params={"outcome": "flagged"}, headers=inspector).json()
    assert page["total"] == COUNTER_DAYS and {item["window_code"] for item in page["items"]} == {"W02"}
    assert sum(hour["visits"] for hour in page["items"][0]["hours"]) == page["items"][0]["visits"] >= 40

    complaints = session.scalars(select(Complaint).order_by(Complaint.id)).all()
    assert len(complaints) == modes.complaints >= 3
    assert {c.status for c in complaints} >= {"received", "refused"}
    overdue = [
        c for c in complaints if c.status == "received" and c.decide_by and c.decide_by < shanghai_date(now)
    ]
    assert len(overdue) == modes.overdue_complaints == 1
    raised = session.scalars(select(Signal).where(Signal.reason_code == "complaint_overdue")).all()
    assert [s.dedupe_key for s in raised] == [f"complaint:{overdue[0].id}"]
    for page_url in ("/console/sampling", "/console/anomalies", "/console/dualtrack", "/console/complaints"):
        assert client.get(page_url, headers=inspector).status_code == 200, page_url

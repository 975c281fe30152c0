"""The daily dual-track judgement on generated days, both databases: fully recorded windows stay
clear, windows with a fifth of their served visitors unrecorded are flagged and get one yellow
signal each; the judgement is idempotent, runs once per day however many instances try, and runs
inside the signal pass."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from central.access.models import User
from central.approvals.models import ApprovalRequest
from central.audit.models import AuditEntry
from central.cases.models import CaseEventVoid
from central.core.clock import SHANGHAI
from central.core.db import make_session_factory
from central.dualtrack.judge import DUAL_TRACK, DUALTRACK_SIGNAL_SOURCES, days_due, judge_day
from central.dualtrack.models import DualTrackJudgement, DualTrackRun
from central.dualtrack.rule import BaselineSource, Outcome
from central.registry.models import ServiceWindow
from central.signals.models import Signal
from central.signals.scheduler import run_signals
from common.profiles.loader import DEFAULT_PROFILE_KEY, get_profile
from common.worktime import WorkCalendar
from common.worktime.official import official_years
from tests.central.dualtrack.days import (
    DAY,
    Window,
    count_visitors,
    generate,
    record_cases,
    windows,
    write_day,
)
from tests.central.video.helpers import World, edge, world

__all__ = ["edge", "windows", "world"]

CALENDAR = WorkCalendar(official_years())
HISTORY = 10  # the profile's baseline_min_days
DUAL = {"W02", "K02"}  # a fifth of their served visitors unrecorded on DAY


def after(day: date, hours: int = 3) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(hours), SHANGHAI).astimezone(UTC)


def judge(session: Session, day: date, *, instance: str = "tests") -> bool:
    report = judge_day(
        session,
        day=day,
        now=after(day),
        calendar=CALENDAR,
        default_profile=DEFAULT_PROFILE_KEY,
        instance=instance,
    )
    session.commit()
    return report.judged


def generated_days(
    client: TestClient,
    world: World,
    session: Session,
    windows: dict[str, Window],
    *,
    judge_history: bool = True,
) -> None:
    """HISTORY fully recorded days, each judged the morning after; then DAY, not yet judged."""
    rng = np.random.default_rng(20261126)
    for back in range(HISTORY, 0, -1):
        day = DAY - timedelta(days=back)
        for window in windows.values():
            write_day(client, world, session, window, day, generate(rng, visits=200, enquiry=0.1))
        if judge_history:
            assert judge(session, day)
    for code, window in windows.items():
        hours = generate(rng, visits=200, enquiry=0.1, unrecorded=0.2 if code in DUAL else 0.0)
        write_day(client, world, session, window, DAY, hours)


def outcomes(session: Session, day: date) -> dict[str, str]:
    session.expire_all()
    rows = session.execute(
        select(DualTrackJudgement.window_id, DualTrackJudgement.outcome).where(DualTrackJudgement.day == day)
    )
    codes = {w: c for c, w in _codes(session).items()}
    return {codes[w]: outcome for w, outcome in rows}


def _codes(session: Session) -> dict[str, int]:
    return dict(session.execute(select(ServiceWindow.code, ServiceWindow.id)).all())


def test_fully_recorded_windows_stay_clear_and_a_fifth_unrecorded_is_flagged(
    client: TestClient, world: World, session: Session, windows: dict[str, Window]
) -> None:
    generated_days(client, world, session, windows)
    for back in range(HISTORY, 0, -1):  # every fully recorded day of every window: no false alarm
        assert set(outcomes(session, DAY - timedelta(days=back)).values()) == {Outcome.CLEAR.value}
    assert judge(session, DAY)
    found = outcomes(session, DAY)
    assert found == {code: Outcome.FLAGGED.value if code in DUAL else Outcome.CLEAR.value for code in windows}
    flagged = session.scalars(
        select(DualTrackJudgement).where(
            DualTrackJudgement.day == DAY, DualTrackJudgement.outcome == "flagged"
        )
    ).all()
    for judgement in flagged:
        assert (
            judgement.baseline_source == BaselineSource.HISTORY.value and judgement.baseline_days == HISTORY
        )
        assert judgement.why == [] and len(judgement.hours_over) >= 2
        assert (
            judgement.excess > judgement.expected
            and judgement.z is not None
            and judgement.critical is not None
        )
        assert judgement.z >= judgement.critical
        assert sum(v for _h, v, _c in judgement.hours) == judgement.visits
    signals = session.scalars(select(Signal).order_by(Signal.dedupe_key)).all()
    codes = _codes(session)
    assert [s.dedupe_key for s in signals] == sorted(f"dualtrack:{codes[c]}:{DAY.isoformat()}" for c in DUAL)
    for signal in signals:
        assert (signal.color, signal.origin, signal.reason_code, signal.case_id) == (
            "yellow", "dual_track", "dual_track", None,
        )  # fmt: skip
        assert "疑似体外循环" in (signal.reason or "") and "超出时段" in (signal.reason or "")
        assert signal.correct_by is not None and signal.issued_on == DAY + timedelta(days=1)
        judgement = next(j for j in flagged if j.signal_id == signal.id)
        assert f"/console/dualtrack/judgements/{judgement.id}" in (signal.evidence or "")
        assert signal.department_id == judgement.department_id
    clear = session.scalars(
        select(DualTrackJudgement).where(DualTrackJudgement.day == DAY, DualTrackJudgement.outcome == "clear")
    ).all()
    assert all(j.why and j.signal_id is None for j in clear)
    audited = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "dualtrack.day.judge").order_by(AuditEntry.id)
    ).all()
    assert len(audited) == HISTORY + 1 and json.loads(audited[-1].after or "{}")["flagged"] == 2


def test_judging_again_changes_nothing(
    client: TestClient, world: World, session: Session, windows: dict[str, Window]
) -> None:
    generated_days(client, world, session, windows)
    assert judge(session, DAY)
    before = (_count(session, DualTrackJudgement), _count(session, Signal), _count(session, AuditEntry))
    assert not judge(session, DAY)  # claimed: left as it is
    assert (
        _count(session, DualTrackJudgement),
        _count(session, Signal),
        _count(session, AuditEntry),
    ) == before


def _count(session: Session, model: type[object]) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_two_instances_at_once_judge_the_day_once(
    client: TestClient, world: World, session: Session, windows: dict[str, Window], db: Engine
) -> None:
    generated_days(client, world, session, windows)
    factory = make_session_factory(db)
    results: list[bool] = []
    barrier = threading.Barrier(2)

    def instance(name: str) -> None:
        with factory() as own:
            barrier.wait()
            results.append(judge(own, DAY, instance=name))

    threads = [threading.Thread(target=instance, args=(f"central-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(results) == [False, True]
    assert _count(session, Signal) == 2
    assert session.scalar(select(func.count()).where(DualTrackJudgement.day == DAY)) == len(windows)


def test_the_signal_pass_judges_the_days_due(
    client: TestClient, world: World, session: Session, windows: dict[str, Window]
) -> None:
    generated_days(client, world, session, windows)
    summary = run_signals(
        session,
        now=after(DAY),
        calendar=CALENDAR,
        default_profile=DEFAULT_PROFILE_KEY,
        instance="tests",
        sources=DUALTRACK_SIGNAL_SOURCES,
    )
    assert summary.sourced[DUAL_TRACK] == 2
    audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "signals.run")).all()
    assert json.loads(audited[-1].after or "{}")[DUAL_TRACK] == 2
    again = run_signals(
        session,
        now=after(DAY, hours=4),
        calendar=CALENDAR,
        default_profile=DEFAULT_PROFILE_KEY,
        instance="tests",
        sources=DUALTRACK_SIGNAL_SOURCES,
    )
    assert again.sourced[DUAL_TRACK] == 0 and _count(session, Signal) == 2


def test_which_days_are_due(session: Session, windows: dict[str, Window]) -> None:
    delay = timedelta(hours=2)
    assert days_due(session, now=after(DAY, hours=1), delay=delay) == [DAY - timedelta(days=1)]  # too early
    assert days_due(session, now=after(DAY, hours=3), delay=delay) == [DAY]  # first run: yesterday only
    session.add(
        DualTrackRun(day=DAY - timedelta(days=3), instance="t", started_at=after(DAY), finished_at=after(DAY))
    )
    session.flush()
    assert days_due(session, now=after(DAY), delay=delay) == [
        DAY - timedelta(days=2),
        DAY - timedelta(days=1),
        DAY,
    ]


def test_without_history_the_allowance_is_the_baseline(
    client: TestClient, world: World, session: Session, windows: dict[str, Window]
) -> None:
    """A deployment's first days: a window leaving half its visitors unrecorded is flagged against
    the profile's allowance (a quarter); one with enquiries at a tenth is not."""
    rng = np.random.default_rng(7)
    write_day(client, world, session, windows["W01"], DAY, generate(rng, visits=200, enquiry=0.1))
    write_day(
        client, world, session, windows["W02"], DAY, generate(rng, visits=200, enquiry=0.1, unrecorded=0.5)
    )
    write_day(
        client, world, session, windows["W03"], DAY, generate(rng, visits=20, enquiry=0.1, unrecorded=0.5)
    )
    assert judge(session, DAY)
    assert outcomes(session, DAY) == {"W01": "clear", "W02": "flagged", "W03": "low_volume"}
    judgement = session.scalars(
        select(DualTrackJudgement).where(DualTrackJudgement.outcome == "flagged")
    ).one()
    assert (judgement.baseline_source, judgement.baseline_share, judgement.baseline_days) == (
        "allowance",
        0.25,
        0,
    )


def test_what_is_compared(
    client: TestClient, world: World, session: Session, windows: dict[str, Window]
) -> None:
    """Cases count in counted hours only, once per window and day, voided events not at all; an
    hour without a camera count is shown but not compared."""
    window = windows["W01"]
    hours = [(9, 20, 18), (10, 30, 28), (11, 25, 20), (14, 30, 30)]
    count_visitors(client, world, window, DAY, hours)
    events = record_cases(session, window, DAY, [*hours, (15, 0, 7)])  # 15:00: cases, no count
    session.add(
        CaseEventVoid(
            event_id=events[0], approval_id=_approved_void(session), voided_at=after(DAY), reason="录入错误"
        )
    )
    session.commit()
    assert judge(session, DAY)
    judgement = session.scalars(select(DualTrackJudgement)).one()
    assert judgement.hours == [[9, 20, 17], [10, 30, 28], [11, 25, 20], [14, 30, 30], [15, None, 7]]
    assert (judgement.visits, judgement.cases, judgement.excess, judgement.hours_counted) == (105, 95, 10, 4)


def _approved_void(session: Session) -> int:
    """The approval a void names (SC-18), written directly: the void itself is what is tested here."""
    user = session.scalar(select(User.id).where(User.username == "inspector"))
    assert user is not None
    approval = ApprovalRequest(
        kind="case_event_void", status="approved", level="province", target_type="case_event", target_id="1",
        payload="{}", reason="录入错误", requested_by_id=user, requested_at=after(DAY),
    )  # fmt: skip
    session.add(approval)
    session.flush()
    return approval.id


@pytest.mark.parametrize("profile", ["shenzhen-2007", "qitaihe-2008", "sichuan-2011"])
def test_every_shipped_profile_judges(profile: str) -> None:
    rules = get_profile(profile).dualtrack
    assert rules.enabled and 0 < rules.enquiry_allowance < 1 and rules.false_alarm_rate <= 0.01

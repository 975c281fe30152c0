"""What happens in the province on each working day of the scored month, up to the scored day: cases
closed (most early, some on the due date, some late), their ratings (差评 with follow-ups, a few
excluded by approval), absences and patrol findings reviewed, manual signals, investigations.
Steps that fall after the scored day (a review, a rectification, a report) have not happened yet."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from bench.bulk import NULL, Rows, text_where
from bench.scores_data import CLOSES, OPENS, Days, Registry, Scale, case_people, moment, office_seconds
from bench.scores_signals import SignalTables
from central.signals.reasons import MANUAL_REASONS

logger = logging.getLogger(__name__)

LEVELS, LEVEL_SHARES = np.array([5, 4, 3, 2, 1]), [0.72, 0.18, 0.06, 0.024, 0.016]
CHANNELS, CHANNEL_SHARES = (
    np.array(["window_device", "pad", "web", "app", "qr"], dtype=object),
    [0.85, 0.05, 0.04, 0.04, 0.02],
)
CATEGORIES = np.array(["absent", "phone", "eating", "sleeping", "attitude", "dress", "other"], dtype=object)
CATEGORY_SHARES = [0.25, 0.25, 0.05, 0.05, 0.2, 0.1, 0.1]
COLORS = {reason.code: reason.color.value for reason in MANUAL_REASONS}
RECTIFY_WITHIN, REPORT_WITHIN = 15, 15  # sichuan-2011: ratings.rectify_within_workdays, investigations


@dataclass
class Month:
    """Every generated table of the days; `cases` continues the open cases' ids."""

    cases: Rows
    sig: SignalTables
    ratings: Rows = field(default_factory=lambda: Rows("ratings"))
    approvals: Rows = field(default_factory=lambda: Rows("approval_requests"))
    followups: Rows = field(default_factory=lambda: Rows("rating_followups"))
    absences: Rows = field(default_factory=lambda: Rows("video_absences"))
    sessions: Rows = field(default_factory=lambda: Rows("patrol_sessions"))
    findings: Rows = field(default_factory=lambda: Rows("patrol_findings"))
    investigations: Rows = field(default_factory=lambda: Rows("investigations"))

    def tables(self) -> list[Rows]:
        return [
            self.cases,
            self.sig.signals,
            self.sig.events,
            self.approvals,
            self.ratings,
            self.followups,
            self.absences,
            self.sessions,
            self.findings,
            self.investigations,
        ]


def review_day(rng: np.random.Generator, day: int, scored: int, n: int) -> np.ndarray:
    """When a decision on something of `day` was taken: mostly that day, a fifth the next working
    day; NULL (pending) where that is after the scored day."""
    reviewed = day + (rng.random(n) < 0.2)
    return np.where(reviewed <= scored, reviewed, NULL)


def closed_cases(m: Month, reg: Registry, scale: Scale, days: Days, day: int) -> dict[str, np.ndarray]:
    """The day's closures, by the working days they had left: 83 % early with 4 or more (never
    yellow), 5 % early with 1–3 (yellow), 8 % on the promised due date, 4 % late (red)."""
    rng, n = m.sig.rng, scale.closed_per_day
    people = case_people(reg, rng, n)
    limit = people["promised_limit_days"]
    roll = rng.random(n)
    left = np.select(
        [roll < 0.83, roll < 0.88, roll < 0.96],
        [4 + (rng.random(n) * np.maximum(limit - 3, 1)).astype(np.int64), rng.integers(1, 4, n), 0],
        -np.minimum(rng.geometric(0.3, n), 10),
    )
    due = day + np.minimum(left, limit)
    accepted = due - limit
    missing = rng.random(n) < 0.005  # the calendar lacked the year: no due dates
    unplaced = rng.random(n) < 0.01  # imported without window or clerk (missing data, SZ-17(5))
    people["window_id"] = np.where(unplaced, NULL, people["window_id"])
    people["staff_id"] = np.where(unplaced, NULL, people["staff_id"])
    closing = moment(days.ordinal[day], office_seconds(rng, n))
    ids = m.cases.add(
        n,
        case_no=np.array([f"SC{i:010d}" for i in range(m.cases.next_id, m.cases.next_id + n)], dtype=object),
        **people,
        status=np.where(rng.random(n) < 0.97, "completed", "refused").astype(object),
        received_at=moment(days.at(accepted), OPENS + rng.integers(0, 7200, n)),
        accepted_on=days.at(accepted),
        closed_on=days.ordinal[day],
        extension_days=0,
        promised_due_date=np.where(missing, NULL, days.at(due)),
        legal_due_date=np.where(missing, NULL, days.at(accepted + 20)),
        calendar_missing=missing,
        last_event_at=closing,
        event_count=4,
    )
    m.sig.light(
        case=ids,
        hall=people["hall_id"],
        dept=people["department_id"],
        due=np.where(missing, day + 99, due),
        accepted=accepted,
        closed=np.full(n, day),
    )
    return {"id": ids, "closing": closing, **people}


def ratings(
    m: Month, scale: Scale, reg: Registry, days: Days, day: int, closed: dict[str, np.ndarray]
) -> None:
    """The day's ratings: four fifths bound to a case closed that day (一事一评), the rest window
    ratings; a few burst or unattended presses weigh less; each 差评 gets a follow-up."""
    rng, n = m.sig.rng, scale.ratings_per_day
    placed = np.flatnonzero(closed["window_id"] != NULL)
    bound = min(int(n * 0.8), len(placed))
    pick = rng.choice(placed, bound, replace=False)
    window = np.concatenate([closed["window_id"][pick], rng.integers(1, len(reg.window_hall) + 1, n - bound)])
    staff = np.concatenate([closed["staff_id"][pick], reg.staff_at(rng, window[bound:])])
    rated = np.concatenate(
        [
            closed["closing"][pick] + rng.integers(10, 170, bound),
            moment(days.ordinal[day], office_seconds(rng, n - bound)),
        ]
    )
    level = rng.choice(LEVELS, n, p=LEVEL_SHARES)
    burst, unattended = rng.random(n) < 0.01, rng.random(n) < 0.005
    bad = level <= 2
    excluded = bad & (rng.random(n) < 0.04)
    hall, dept = reg.window_hall[window - 1], reg.window_dept[window - 1]
    k = int(excluded.sum())
    approval = m.approvals.add(
        k,
        kind="rating_exclusion",
        status="approved",
        level="province",
        target_type="rating",
        target_id=np.arange(m.ratings.next_id, m.ratings.next_id + n)[excluded].astype(str).astype(object),
        payload="{}",
        reason="群众误按评价键，经核实予以剔除",
        hall_id=hall[excluded],
        department_id=dept[excluded],
        requested_by_id=rng.integers(1, reg.inspectors + 1, k),
        requested_at=rated[excluded] + 3600,
        decided_by_id=rng.integers(1, reg.inspectors + 1, k),
        decided_at=rated[excluded] + 7200,
    )
    approval_of = np.full(n, NULL, dtype=np.int64)
    approval_of[excluded] = approval
    ids = m.ratings.add(
        n,
        channel=rng.choice(CHANNELS, n, p=CHANNEL_SHARES),
        level=level,
        case_id=np.concatenate([closed["id"][pick], np.full(n - bound, NULL)]),
        hall_id=hall,
        department_id=dept,
        window_id=window,
        staff_id=staff,
        device_id=hall,  # the centre's edge agent uploads its keypads' presses
        rated_at=rated,
        rated_on=days.ordinal[day],
        weight=np.where(unattended, 0.0, np.where(burst, 0.25, 1.0)),
        burst=burst,
        unattended=unattended,
        excluded=excluded,
        excluded_by_approval_id=approval_of,
        updated_at=rated,
    )
    followups(m, days, day, ids[bad], rated[bad], hall[bad], dept[bad], excluded[bad])


def followups(
    m: Month,
    days: Days,
    day: int,
    rating: np.ndarray,
    rated: np.ndarray,
    hall: np.ndarray,
    dept: np.ndarray,
    excluded: np.ndarray,
) -> None:
    """Due 15 working days after the 差评; by the scored day most are rectified in time, an eighth of
    the due ones are not (open or called back: overdue, a yellow signal the next working day)."""
    rng, scored, n = m.sig.rng, m.sig.day, len(rating)
    due = day + RECTIFY_WITHIN
    called = day + rng.integers(0, 3, n)
    if due < scored:
        overdue = ~excluded & (rng.random(n) < 0.12)
        rectified = np.where(overdue, NULL, day + rng.integers(2, RECTIFY_WITHIN + 1, n))
        closed = np.where(rectified != NULL, rectified + rng.integers(0, 3, n), NULL)
    else:
        overdue = np.zeros(n, dtype=bool)
        rectified = np.where(rng.random(n) < 0.2, day + rng.integers(2, 8, n), NULL)
        closed = np.where(rectified != NULL, rectified + 1, NULL)
    called = np.where((called <= scored) & ~(overdue & (rng.random(n) < 0.3)), called, NULL)
    rectified = np.where(rectified <= scored, rectified, NULL)
    closed = np.where((closed != NULL) & (closed <= scored) | excluded, np.where(excluded, day, closed), NULL)
    at = m.sig.when
    status = np.select(
        [closed != NULL, rectified != NULL, called != NULL], ["closed", "rectified", "called_back"], "open"
    )
    ids = m.followups.add(
        n,
        rating_id=rating,
        hall_id=hall,
        department_id=dept,
        status=status.astype(object),
        opened_at=rated + 1,
        rectify_due=days.at(np.full(n, due)),
        callback_at=at(called, OPENS + rng.integers(0, 20000, n)),
        callback_by=text_where(called != NULL, "窗口负责人"),
        callback_result=text_where(called != NULL, "已回访，向群众致歉并说明情况"),
        rectified_at=at(rectified, OPENS + rng.integers(0, 20000, n)),
        rectified_by=text_where(rectified != NULL, "窗口负责人"),
        rectification=text_where(rectified != NULL, "已对窗口人员进行服务规范提醒谈话"),
        closed_at=at(closed, CLOSES),
    )
    if overdue.any() and due + 1 <= scored:  # the scheduler's night pass after the deadline
        m.sig.follow_through(
            issued=np.full(int(overdue.sum()), due + 1),
            reason="followup_overdue",
            origin="followup",
            hall=hall[overdue],
            dept=dept[overdue],
            dedupe=np.char.add("followup:", ids[overdue].astype(str)).astype(object),
        )


def absences(m: Month, scale: Scale, reg: Registry, days: Days, day: int) -> None:
    """离岗 the cameras reported: 55 % confirmed (a yellow signal each), 30 % dismissed, 15 % pending."""
    rng, n = m.sig.rng, scale.absences_per_day
    window = rng.integers(1, len(reg.window_hall) + 1, n)
    start = moment(days.ordinal[day], rng.integers(OPENS, CLOSES - 3600, n))
    reviewed = review_day(rng, day, m.sig.day, n)
    roll = rng.random(n)
    status = np.where(reviewed == NULL, "pending", np.where(roll < 0.65, "confirmed", "dismissed")).astype(
        object
    )
    status[(roll > 0.85) & (day >= m.sig.day - 1)] = "pending"
    reviewed = np.where(status == "pending", NULL, reviewed)
    review_seconds = np.where(reviewed == day, CLOSES, OPENS) + rng.integers(0, 3600, n)
    reviewed_at = m.sig.when(reviewed, review_seconds)
    ids = np.arange(m.absences.next_id, m.absences.next_id + n)
    confirmed = status == "confirmed"
    signal = np.full(n, NULL, dtype=np.int64)
    hall, dept = reg.window_hall[window - 1], reg.window_dept[window - 1]
    signal[confirmed] = m.sig.follow_through(
        issued=reviewed[confirmed],
        reason="staff_absent",
        origin="video",
        hall=hall[confirmed],
        dept=dept[confirmed],
        dedupe=np.char.add("absence:", ids[confirmed].astype(str)).astype(object),
        issued_seconds=review_seconds[confirmed],
    )
    m.absences.add(
        n,
        hall_id=hall,
        window_id=window,
        department_id=dept,
        device_id=hall,
        camera="cam-1",
        started_at=start,
        ended_at=start + rng.integers(660, 3600, n),
        start_observation_id=np.char.add("abs-s-", ids.astype(str)).astype(object),
        end_observation_id=np.char.add("abs-e-", ids.astype(str)).astype(object),
        status=status,
        reviewed_at=reviewed_at,
        reviewed_by=text_where(status != "pending", "监察员"),
        review_note=text_where(status == "dismissed", "窗口人员外出取件，已报备"),
        signal_id=signal,
        received_at=start + 600,
        updated_at=np.where(reviewed_at == NULL, start + 600, reviewed_at),
        origin="live",
    )


def patrols(m: Month, scale: Scale, reg: Registry, days: Days, day: int) -> None:
    """The day's patrols (complete sessions) and what they found at windows: 60 % confirmed."""
    rng, n = m.sig.rng, scale.patrols_per_day
    hall = rng.integers(1, reg.halls + 1, n)
    start = moment(days.ordinal[day], rng.integers(OPENS, CLOSES - 1800, n))
    session = m.sessions.add(
        n,
        hall_id=hall,
        inspector_id=rng.integers(1, reg.inspectors + 1, n),
        day=days.ordinal[day],
        started_at=start,
        ended_at=start + 600,
        state="complete",
        watched_seconds=560.0,
        judged_at=start + 660,
    )
    k = scale.findings_per_day
    of = rng.integers(0, n, k)
    hall_windows = np.searchsorted(reg.window_hall, np.arange(1, reg.halls + 2))
    first, count = hall_windows[hall[of] - 1], np.diff(hall_windows)[hall[of] - 1]
    window = first + 1 + (rng.random(k) * count).astype(np.int64)
    category = rng.choice(CATEGORIES, k, p=CATEGORY_SHARES)
    reviewed = review_day(rng, day, m.sig.day, k)
    status = np.where(
        reviewed == NULL, "pending", np.where(rng.random(k) < 0.7, "confirmed", "dismissed")
    ).astype(object)
    review_seconds = np.where(reviewed == day, CLOSES, OPENS) + rng.integers(0, 3600, k)
    ids = np.arange(m.findings.next_id, m.findings.next_id + k)
    confirmed = status == "confirmed"
    signal = np.full(k, NULL, dtype=np.int64)
    dept = reg.window_dept[window - 1]
    signal[confirmed] = m.sig.follow_through(
        issued=reviewed[confirmed],
        reason=np.where(category == "attitude", "patrol_attitude", "patrol_discipline")[confirmed],
        origin="patrol",
        hall=hall[of][confirmed],
        dept=dept[confirmed],
        dedupe=np.char.add("patrol-finding:", ids[confirmed].astype(str)).astype(object),
        issued_seconds=review_seconds[confirmed],
    )
    m.findings.add(
        k,
        session_id=session[of],
        hall_id=hall[of],
        window_id=window,
        camera="cam-1",
        category=category,
        note="巡查发现",
        at=start[of] + rng.integers(0, 600, k),
        inspector_id=rng.integers(1, reg.inspectors + 1, k),
        capture=np.char.add("cap-", ids.astype(str)).astype(object),
        clip_seconds=10,
        status=status,
        reviewed_by=text_where(status != "pending", "监察员"),
        reviewed_at=m.sig.when(reviewed, review_seconds),
        review_note=text_where(status == "dismissed", "画面不清，无法认定"),
        signal_id=signal,
    )


def manual_signals(
    m: Month, scale: Scale, reg: Registry, open_ids: np.ndarray, case_dept: np.ndarray, day: int
) -> None:
    """Inspectors' signals of the day, reasons from SZ-11/12; seven in ten about a case. Red ones
    are partly passed down for investigation (reported within 15 working days, or overdue)."""
    rng, n, scored = m.sig.rng, scale.manual_signals_per_day, m.sig.day
    reason = np.array([r.code for r in MANUAL_REASONS], dtype=object)[rng.integers(0, len(MANUAL_REASONS), n)]
    color = np.array([COLORS[c] for c in reason], dtype=object)
    about = rng.random(n) < 0.7
    pick = rng.integers(0, len(open_ids), n)
    dept = np.where(about, case_dept[pick], rng.integers(1, len(reg.dept_hall) + 1, n))
    red = color == "red"
    fixes = rng.random(n) < 0.6
    investigate = np.zeros(n, dtype=bool)  # the day's investigations, each about a red signal of the day
    investigate[rng.permutation(np.flatnonzero(red))[: scale.investigations_per_day]] = True
    k = int(investigate.sum())
    due = day + REPORT_WITHIN
    reported = np.where(
        rng.random(k) < (0.8 if due < scored else 0.4), day + rng.integers(3, REPORT_WITHIN + 1, k), NULL
    )
    reported = np.where(reported <= scored, reported, NULL)
    closed = np.where(red & ~investigate & (rng.random(n) < 0.5), day + rng.integers(2, 8, n), NULL)
    closed[investigate] = reported
    finding = np.where(rng.random(n) < 0.4, "fault", "no_fault").astype(object)
    ids = m.sig.add(
        issued=np.full(n, day),
        color=color,
        reason=reason,
        origin="manual",
        hall=reg.dept_hall[dept - 1],
        dept=dept,
        case=np.where(about, open_ids[pick], NULL),
        corrected=np.where(~red & fixes, day + rng.integers(0, 2, n), NULL),
        escalated=np.where(~red & ~fixes, day + 2, NULL),
        investigated=np.where(investigate, day, NULL),
        closed=closed,
        finding=finding,
        issued_by="监察员",
        issued_seconds=office_seconds(rng, n),
    )
    assigned = m.sig.when(np.full(k, day), CLOSES)
    m.investigations.add(
        k,
        signal_id=ids[investigate],
        subject=np.char.add("信号 #", ids[investigate].astype(str)).astype(object),
        assigned_by_id=rng.integers(1, reg.inspectors + 1, k),
        assignee_scope_kind="department",
        assignee_scope_id=dept[investigate],
        assignee_scope_code=np.array([f"D{d:05d}" for d in dept[investigate].tolist()], dtype=object),
        hall_id=reg.dept_hall[dept[investigate] - 1],
        department_id=dept[investigate],
        assigned_at=assigned,
        assigned_on=m.sig.days.ordinal[day],
        due_date=m.sig.days.at(np.full(k, due)),
        extension_days=0,
        extensions=0,
        status=np.where(reported == NULL, "open", "reported").astype(object),
        reported_at=m.sig.when(reported, CLOSES + 600),
        reported_by=text_where(reported != NULL, "部门负责人"),
        report=text_where(reported != NULL, "已核查，情况属实并已整改"),
        finding=text_where(reported != NULL, finding[investigate]),
    )

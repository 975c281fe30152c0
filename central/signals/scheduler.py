"""The signal scheduler (SZ-10..12): which computed signals should exist as of a day, and make it so.

`run_signals` looks at the Shanghai date of `now` and brings the signal table up to it:

1. **Light signals** (QTH-2, SZ-11): every open yellow or red case gets one signal of its colour
   (`dedupe_key = 'light:<case id>'`). One set-based ``INSERT … SELECT … ON CONFLICT DO NOTHING``
   per colour, every profile's rules inside one light expression: a million cases cost a table
   scan, not a million Python rows; cases that already have theirs are skipped by an index probe.
2. **Green warnings** (SZ-10): open, running cases whose due date falls after the last earlier
   run's day, up to today (today alone on the first run ever), get a green signal
   (`dedupe_key = 'green:<case id>:<due date>'`). A central that was down over a due date issues
   the missed warning when it comes back.
3. **Auto-correction**: a light yellow still awaiting correction whose case has closed by its
   correction deadline is corrected ("办件已办结").
4. **Escalation** (SZ-11): a light yellow whose case has turned red, and any yellow not corrected
   by its `correct_by` working day, turns red and escalated, with a timeline event each.
   (3 and 4 live in `central.signals.transitions`.)
5. **Signals of other domains** (`sources`, passed by the caller): overdue follow-ups (HCP), a 差评
   not rectified by its deadline gets one yellow signal (`dedupe_key = 'followup:<follow-up id>'`;
   `central.ratings.overdue.FOLLOWUP_OVERDUE`). Passed in, not imported: ratings sit above signals.
   A source that is a `CorrectingSource` also names its yellows whose cause has gone (a complaint
   decided after all, `central.complaints.jobs`): they are corrected like a light yellow whose case
   closed (step 3), each with a timeline step saying why, counted in the run's `corrected`.
6. One `SignalRun` row and one audit entry for the run, committed with everything else.

Idempotent by construction: it computes what should exist rather than what changed since last
time, so a second run adds nothing and a run after downtime catches up.

**Several instances at once.** Computed signals carry a unique `dedupe_key`, and every insert is
``ON CONFLICT (dedupe_key) DO NOTHING``: an instance that meets a key another one is inserting
waits for that transaction and then skips the row, so no duplicate and no error. Transitions are
select-then-conditional-update in the run's transaction (``UPDATE … WHERE id IN (…) AND status =
<from> RETURNING id``): a row another instance has already moved no longer matches and is left
alone, so each escalation gets exactly one timeline event. On PostgreSQL both kinds of statement
take their rows in id order (inserts ``ORDER BY id``, the select ``ORDER BY id FOR UPDATE``, which
re-checks a row once its competitor commits): two instances never wait on each other in
opposite orders, which would otherwise deadlock once synchronized sequential scans start them in
different places of a large table. SQLite has one writer at a time; the second waits on the busy
timeout (a wait past it fails that run, which the loop logs and retries next tick). Neither database raises an integrity or serialization error here at READ COMMITTED, so
none is caught (tests/central/signals/test_scheduler.py runs two schedulers at once).

**Why there is no audit entry per signal.** Computed signals are derived data: the same cases,
calendar and profiles reproduce every one of them, and the run that wrote them is audited (one
entry with its counts, naming the run row). People's actions on signals — raising one by hand,
acknowledging, correcting, escalating, closing — are audited one by one by
`central.signals.service`. A per-signal entry here would add a million entries a day to the chain
without adding any fact that cannot be recomputed.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import ColumnElement, Date, Select, String, Table, case, exists, func, literal, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import QueryableAttribute, Session

from central.audit.chain import record
from central.cases.lights import OPEN_VALUES, light_expression
from central.cases.models import Case
from central.core.clock import shanghai_date, to_utc
from central.core.db import conflict_insert
from central.core.types import UTCDateTime
from central.profiles.assignment import halls_by_profile
from central.signals.lifecycle import SignalStatus
from central.signals.models import Signal, SignalRun
from central.signals.reasons import Color, Origin
from central.signals.transitions import (
    SIGNALS_ACTOR,
    SchedulerPass,
    auto_correct,
    correct_ended,
    escalate_late_corrections,
    escalate_overdue_cases,
)
from common.profiles.loader import get_profile
from common.worktime import CalendarMissingError, WorkCalendar

logger = logging.getLogger(__name__)

_signals = cast(Table, Signal.__table__)
_INSERTED = [
    "color", "initial_color", "origin", "reason_code", "dedupe_key", "case_id", "hall_id",
    "department_id", "status", "issued_at", "issued_on", "issued_by", "correct_by", "updated_at",
]  # fmt: skip
_LIGHT_REASONS = {Color.YELLOW: "light_yellow", Color.RED: "light_red"}


class SignalSource(Protocol):
    """Signals another domain computes in the run's transaction (insert ON CONFLICT DO NOTHING on
    their dedupe keys, no commit); returns how many were new."""

    def __call__(
        self, session: Session, *, today: date, now: datetime, calendar: WorkCalendar, default_profile: str
    ) -> int: ...


class EndedCauses(Protocol):
    """A source's computed signals whose cause has gone as of `today`, by id, each with why (a
    zh-CN note for its timeline). Reads only; the scheduler corrects those still awaiting it."""

    def __call__(self, session: Session, *, today: date) -> dict[int, str]: ...


@dataclass(frozen=True)
class CorrectingSource:
    """A signal source whose yellows are corrected by the pass once their cause has gone (as a light
    yellow is once its case closed): `issue` raises them, `ended` names those to correct. Only
    yellows still awaiting correction by their `correct_by` day are corrected (the source's
    `ended` checks the day); one already escalated stays for its investigation."""

    issue: SignalSource
    ended: EndedCauses

    def __call__(
        self, session: Session, *, today: date, now: datetime, calendar: WorkCalendar, default_profile: str
    ) -> int:
        return self.issue(session, today=today, now=now, calendar=calendar, default_profile=default_profile)


FOLLOWUP_OVERDUE = "followup_overdue"  # the name ratings' source is passed under (HCP)


@dataclass(frozen=True)
class RunSummary:
    """What one run did (the counts of its `SignalRun` row, split by kind)."""

    run_id: int
    as_of: date
    light_yellow: int
    light_red: int
    green: int
    escalated: int
    corrected: int
    sourced: Mapping[str, int] = field(default_factory=dict)  # new signals per source, by name
    # of `corrected`, those of correcting sources whose cause had gone, by the source's name
    ended: Mapping[str, int] = field(default_factory=dict)

    @property
    def followup_overdue(self) -> int:
        """Yellows for 差评 not rectified in time (HCP)."""
        return self.sourced.get(FOLLOWUP_OVERDUE, 0)

    @property
    def issued(self) -> int:
        return self.light_yellow + self.light_red + self.green + sum(self.sourced.values())

    def counts(self) -> dict[str, Any]:
        """The audited counts (JSON-able)."""
        return {
            "as_of": self.as_of.isoformat(),
            "light_yellow": self.light_yellow,
            "light_red": self.light_red,
            "green": self.green,
            "escalated": self.escalated,
            "corrected": self.corrected,
            FOLLOWUP_OVERDUE: self.followup_overdue,  # always there, as the audited shape has it
            **self.sourced,
            **{f"{name}_corrected": count for name, count in self.ended.items()},
            "issued": self.issued,
        }


def run_signals(
    session: Session,
    *,
    now: datetime,
    calendar: WorkCalendar,
    default_profile: str,
    instance: str,
    sources: Mapping[str, SignalSource] | None = None,
) -> RunSummary:
    """Bring computed signals up to the Shanghai date of `now`, and commit (one transaction).

    Safe to run at any time, again and again, and from several instances at once (see the module
    docstring). Raises on a database error after rolling back: nothing of a failed run stays.
    """
    started, now = time.perf_counter(), to_utc(now)
    today = shanghai_date(now)
    groups = halls_by_profile(session, default_key=default_profile)
    run = SchedulerPass(
        session=session,
        now=now,
        today=today,
        calendar=calendar,
        groups=groups or {default_profile: []},
        default_profile=default_profile,
        postgres=_dialect(session) == "postgresql",
    )
    try:
        yellow, red = _issue_light_signals(run)
        green = _issue_green_warnings(run, since=_green_window_start(session, today))
        sourced = {
            name: issue(session, today=today, now=now, calendar=calendar, default_profile=default_profile)
            for name, issue in (sources or {}).items()
        }
        ended = {
            name: correct_ended(run, notes=source.ended(session, today=today))
            for name, source in (sources or {}).items()
            if isinstance(source, CorrectingSource)
        }
        corrected = auto_correct(run) + sum(ended.values())
        escalated = escalate_overdue_cases(run) + escalate_late_corrections(run)
        elapsed = timedelta(seconds=time.perf_counter() - started)
        row = SignalRun(
            started_at=now,
            finished_at=now + elapsed,
            as_of=today,
            instance=instance,
            issued=yellow + red + green + sum(sourced.values()),
            escalated=escalated,
            corrected=corrected,
        )
        session.add(row)
        session.flush()
        summary = RunSummary(row.id, today, yellow, red, green, escalated, corrected, sourced, ended)
        record(
            session,
            actor=SIGNALS_ACTOR,
            action="signals.run",
            target_type="signal_run",
            target_id=str(row.id),
            after=summary.counts(),
            at=now,
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    logger.info("signals as of %s by %s: %s", today, instance, summary.counts())
    return summary


class UnsupportedDatabaseError(RuntimeError):
    """hallwatch runs on PostgreSQL (production) and SQLite (embedded); the scheduler's
    `INSERT … ON CONFLICT DO NOTHING` is written for those two."""


def _dialect(session: Session) -> str:
    name = session.get_bind().dialect.name
    if name not in ("postgresql", "sqlite"):
        raise UnsupportedDatabaseError(f"hallwatch runs on PostgreSQL or SQLite, not {name}")
    return name


# -- issuing --------------------------------------------------------------------------------------
def _issue_light_signals(run: SchedulerPass) -> tuple[int, int]:
    """One signal per open yellow or red case, for profiles whose lights raise signals.

    One statement per colour over all cases, each profile's rules inside the light expression: a
    plain table scan, where a filter on each profile's halls would walk an index case by case."""
    enabled = {key: halls for key, halls in run.groups.items() if get_profile(key).signals.light_signals}
    if not enabled:
        return 0, 0
    light = light_expression(
        as_of=run.today,
        calendar=run.calendar,
        halls_by_profile=dict(run.groups),
        default_key=run.default_profile,
    )
    # Cases that have theirs are skipped before the insert: a probe of the case_id index costs a
    # fraction of building the row and letting ON CONFLICT throw it away (the steady state).
    has_light_signal = exists().where(_signals.c.case_id == Case.id, _signals.c.origin == Origin.LIGHT.value)
    where = [Case.status.in_(OPEN_VALUES), ~has_light_signal]
    disabled = [hall for key, halls in run.groups.items() if key not in enabled for hall in halls]
    if disabled:
        where.append(Case.hall_id.not_in(disabled))
    counts = []
    for color in (Color.YELLOW, Color.RED):
        query = _signal_select(
            run,
            color=color,
            origin=Origin.LIGHT,
            reason_code=_LIGHT_REASONS[color],
            dedupe_key=literal("light:") + sql_cast(Case.id, String),
            correct_by=_correct_by(run, enabled) if color is Color.YELLOW else literal(None, Date()),
        ).where(*where, light == color.value)
        counts.append(_insert_new(run, query))
    return counts[0], counts[1]


def _correct_by(run: SchedulerPass, groups: Mapping[str, list[int]]) -> ColumnElement[date | None]:
    """The last working day to correct a yellow issued today (SZ-11), by the profile of the case's
    hall; NULL past the calendar (such a yellow turns red only when its case does)."""
    days: dict[date | None, list[int]] = defaultdict(list)
    for key, halls in sorted(groups.items()):
        profile = get_profile(key)
        try:
            day: date | None = run.calendar.add_workdays(
                run.today, profile.signals.yellow_correct_within_workdays
            )
        except CalendarMissingError as exc:
            logger.warning(
                "no correction deadline for %s yellows of %s: years %s missing", key, run.today, exc.years
            )
            day = None
        days[day].extend(halls)
    if len(days) == 1:
        return literal(next(iter(days)), Date())
    *others, (last, _halls) = sorted(days.items(), key=lambda item: len(item[1]))
    return case(
        *((Case.hall_id.in_(halls), literal(day, Date())) for day, halls in others),
        else_=literal(last, Date()),
    )


def _green_window_start(session: Session, today: date) -> date:
    """The first day whose due dates still need their green warning: the day after the last run
    before today (today itself on the first run ever)."""
    last = session.scalar(select(func.max(SignalRun.as_of)).where(SignalRun.as_of < today))
    return last + timedelta(days=1) if last is not None else today


def _issue_green_warnings(run: SchedulerPass, *, since: date) -> int:
    """SZ-10: a green warning for each open, running case whose due date lies in [since, today]."""
    issued = 0
    for key in sorted(run.groups):
        rules = get_profile(key).lights
        if not rules.green_warning_on_due_date:
            continue
        due = Case.promised_due_date if rules.due_basis == "promised" else Case.legal_due_date
        query = _signal_select(
            run,
            color=Color.GREEN,
            origin=Origin.DUE_DATE,
            reason_code="due_date",
            dedupe_key=literal("green:") + sql_cast(Case.id, String) + literal(":") + _date_text(run, due),
            correct_by=literal(None, Date()),
        ).where(
            Case.status.in_(OPEN_VALUES),
            Case.paused_since.is_(None),  # a paused case's clock stands still: no due date to reach
            due.between(since, run.today),
            run.halls_clause(key),
        )
        issued += _insert_new(run, query)
    return issued


def _date_text(run: SchedulerPass, column: QueryableAttribute[date | None]) -> ColumnElement[str]:
    """YYYY-MM-DD whatever the server's date style (SQLite stores dates as that text already)."""
    if run.postgres:
        return func.to_char(column, "YYYY-MM-DD")
    return sql_cast(column, String)


def _signal_select(
    run: SchedulerPass,
    *,
    color: Color,
    origin: Origin,
    reason_code: str,
    dedupe_key: ColumnElement[str],
    correct_by: ColumnElement[date | None],
) -> Select[*tuple[Any, ...]]:
    """SELECT over cases giving signal rows in `_INSERTED` order (the caller adds the WHERE)."""
    query = select(
        literal(color.value),
        literal(color.value),
        literal(origin.value),
        literal(reason_code),
        dedupe_key,
        Case.id,
        Case.hall_id,
        Case.department_id,
        literal(SignalStatus.ISSUED.value),
        literal(run.now, UTCDateTime()),
        literal(run.today, Date()),
        literal(SIGNALS_ACTOR.label),
        correct_by,
        literal(run.now, UTCDateTime()),
    )
    # PostgreSQL: take dedupe keys in one order in every instance (see the module docstring).
    return query.order_by(Case.id) if run.postgres else query


def _insert_new(run: SchedulerPass, query: Select[*tuple[Any, ...]]) -> int:
    """INSERT … SELECT, skipping rows whose dedupe key exists; returns how many were new."""
    dialect_insert = conflict_insert(run.session)
    statement = (
        dialect_insert(_signals)
        .from_select(_INSERTED, query)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    # SQLAlchemy keeps the driver's rowcount of an INSERT only when asked to.
    result = cast(CursorResult[Any], run.session.execute(statement.execution_options(preserve_rowcount=True)))
    return max(result.rowcount, 0)

"""Computed signal transitions of a scheduler run: auto-correction and escalation (SZ-11).

Auto-correction is of light yellows whose case closed in time, and of other domains' computed
yellows whose cause has gone (`correct_ended`: a complaint decided after all).

Each is a conditional ``UPDATE … WHERE status = <from> … RETURNING`` per status it moves from, so a
row another instance already moved is skipped and gets no second timeline event; on PostgreSQL the
rows are locked in id order first (``SELECT … ORDER BY id FOR UPDATE``) so two instances never wait
on each other in opposite orders. See `central.signals.scheduler` for the whole run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, exists, insert, or_, select, true, update
from sqlalchemy.orm import Session

from central.cases.clock import Light
from central.cases.lights import OPEN_VALUES, light_expression
from central.cases.models import Case
from central.core.actor import Actor
from central.signals.lifecycle import AWAITING_CORRECTION, SignalAction, SignalStatus
from central.signals.models import Signal, SignalEvent
from central.signals.reasons import Color, Origin
from common.profiles.loader import get_profile
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

SIGNALS_ACTOR = Actor(kind="system", name="signals")  # who computed signals and their moves name
NOTE_LATE = "未在{days}个工作日内纠正，自动转为红色"
NOTE_OVERDUE = "办件已超期，自动转为红色"
NOTE_CLOSED = "办件已办结"

_signals = cast(Table, Signal.__table__)
_events = cast(Table, SignalEvent.__table__)
CHUNK = 5000  # ids per UPDATE (SQLite allows 32,766 bound parameters per statement)


@dataclass(frozen=True)
class SchedulerPass:
    """What every statement of one scheduler run shares."""

    session: Session
    now: datetime
    today: date
    calendar: WorkCalendar
    groups: Mapping[str, list[int]]  # profile key -> its halls
    default_profile: str
    postgres: bool

    def halls_clause(self, key: str) -> ColumnElement[bool]:
        """Cases of the halls that run profile `key` (every case when one profile rules them all)."""
        if len(self.groups) <= 1:
            return true()
        return Case.hall_id.in_(list(self.groups.get(key, [])))


def auto_correct(run: SchedulerPass) -> int:
    """A light yellow awaiting correction is corrected once its case closed by the deadline."""
    case_closed = exists().where(
        Case.id == _signals.c.case_id,
        Case.status.not_in(OPEN_VALUES),
        or_(
            Case.closed_on.is_(None),
            _signals.c.correct_by.is_(None),
            Case.closed_on <= _signals.c.correct_by,
        ),
    )
    done = 0
    for status in sorted(AWAITING_CORRECTION):
        moved = _transition(
            run,
            from_status=status,
            to_status=SignalStatus.CORRECTED,
            action=SignalAction.CORRECT,
            where=[
                _signals.c.origin == Origin.LIGHT.value,
                _signals.c.color == Color.YELLOW.value,
                case_closed,
            ],
            values={},
        )
        _write_events(
            run,
            moved,
            from_status=status,
            to_status=SignalStatus.CORRECTED,
            action=SignalAction.CORRECT,
            note=lambda _signal, _hall: NOTE_CLOSED,
        )
        done += len(moved)
    return done


def correct_ended(run: SchedulerPass, *, notes: Mapping[int, str]) -> int:
    """Computed yellows of another domain whose cause has gone (`notes`: signal id -> why, zh-CN)
    are corrected like a light yellow whose case closed: each one still awaiting correction gets
    its timeline step with the note; one already escalated, investigated or closed stays as it is."""
    if not notes:
        return 0
    done = 0
    for status in sorted(AWAITING_CORRECTION):
        moved: list[tuple[int, int]] = []
        ids = sorted(notes)
        for start in range(0, len(ids), CHUNK):
            moved += _transition(
                run,
                from_status=status,
                to_status=SignalStatus.CORRECTED,
                action=SignalAction.CORRECT,
                where=[_signals.c.id.in_(ids[start : start + CHUNK])],
                values={},
            )
        _write_events(
            run,
            moved,
            from_status=status,
            to_status=SignalStatus.CORRECTED,
            action=SignalAction.CORRECT,
            note=lambda signal_id, _hall: notes[signal_id],
        )
        done += len(moved)
    return done


def escalate_overdue_cases(run: SchedulerPass) -> int:
    """A light yellow whose case's light is red now turns red (the case passed its time limit)."""
    light = light_expression(
        as_of=run.today,
        calendar=run.calendar,
        halls_by_profile=run.groups,
        default_key=run.default_profile,
    )
    case_red = exists().where(Case.id == _signals.c.case_id, light == Light.RED.value)
    where = [_signals.c.origin == Origin.LIGHT.value, _signals.c.color == Color.YELLOW.value, case_red]
    froms = (SignalStatus.ISSUED, SignalStatus.ACKNOWLEDGED, SignalStatus.CORRECTED)
    return sum(
        _escalate(run, from_status=s, where=where, note=lambda _signal, _hall: NOTE_OVERDUE) for s in froms
    )


def escalate_late_corrections(run: SchedulerPass) -> int:
    """SZ-11: a yellow (of any origin) not corrected by its last working day turns red."""
    keys = {hall: key for key, halls in run.groups.items() for hall in halls}

    def note(_signal_id: int, hall_id: int) -> str:
        days = get_profile(keys.get(hall_id, run.default_profile)).signals.yellow_correct_within_workdays
        return NOTE_LATE.format(days=days)

    where = [_signals.c.color == Color.YELLOW.value, _signals.c.correct_by < run.today]
    return sum(_escalate(run, from_status=s, where=where, note=note) for s in sorted(AWAITING_CORRECTION))


def _escalate(
    run: SchedulerPass,
    *,
    from_status: SignalStatus,
    where: list[ColumnElement[bool]],
    note: Callable[[int, int], str],
) -> int:
    values = {"color": Color.RED.value, "escalated_at": run.now}
    moved = _transition(
        run,
        from_status=from_status,
        to_status=SignalStatus.ESCALATED,
        action=SignalAction.ESCALATE,
        where=where,
        values=values,
    )
    _write_events(
        run,
        moved,
        from_status=from_status,
        to_status=SignalStatus.ESCALATED,
        action=SignalAction.ESCALATE,
        note=note,
    )
    return len(moved)


def _transition(
    run: SchedulerPass,
    *,
    from_status: SignalStatus,
    to_status: SignalStatus,
    action: SignalAction,
    where: list[ColumnElement[bool]],
    values: dict[str, Any],
) -> list[tuple[int, int]]:
    """Move every signal in `from_status` matching `where`; returns (id, hall id) of those moved.

    Select, then update by id on the condition that the status is still the one read: a row
    another instance moved first is skipped. On PostgreSQL the select locks the rows in id order
    (and re-checks them once a competing transaction has committed)."""
    candidates = (
        select(_signals.c.id)
        .where(_signals.c.status == from_status.value, *where)
        .order_by(_signals.c.id)
        .with_for_update(of=_signals)  # SQLite: nothing (the run already holds the write lock)
    )
    ids = list(run.session.scalars(candidates))
    moved: list[tuple[int, int]] = []
    for start in range(0, len(ids), CHUNK):
        statement = (
            update(_signals)
            .where(_signals.c.id.in_(ids[start : start + CHUNK]), _signals.c.status == from_status.value)
            .values(status=to_status.value, updated_at=run.now, **values)
            .returning(_signals.c.id, _signals.c.hall_id)
        )
        moved.extend((int(row.id), int(row.hall_id)) for row in run.session.execute(statement))
    if moved:
        logger.info("%s: %d signals %s -> %s", action.value, len(moved), from_status.value, to_status.value)
    return sorted(moved)


def _write_events(
    run: SchedulerPass,
    moved: list[tuple[int, int]],
    *,
    from_status: SignalStatus,
    to_status: SignalStatus,
    action: SignalAction,
    note: Callable[[int, int], str],  # (signal id, hall id) -> the step's note
) -> None:
    if not moved:
        return
    rows = [
        {
            "signal_id": signal_id,
            "at": run.now,
            "action": action.value,
            "from_status": from_status.value,
            "to_status": to_status.value,
            "actor": SIGNALS_ACTOR.label,
            "note": note(signal_id, hall_id),
        }
        for signal_id, hall_id in moved
    ]
    run.session.execute(insert(_events), rows)

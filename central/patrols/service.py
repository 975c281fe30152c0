"""Publishing the day's patrol plan (SC-6(1)): drawn once, on the day, then only ever read.

A plan is drawn on its own working day (the first time anyone asks for it, or the day's job), from
the registry as it stands then: a registry change made during a day takes effect the next working
day, and a published plan is never redrawn. Tomorrow's plan cannot be asked for (it would be
predicted); a past day that has none (central was down, or not yet deployed) stays without one.
Two instances drawing at once: one insert wins the day's unique row, the other reads it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.access.models import User
from central.access.roles import Role
from central.audit.chain import record
from central.calendar.service import load_calendar
from central.core.actor import SYSTEM
from central.core.clock import shanghai_date
from central.core.config import Settings
from central.patrols.key import DrawKeyError, key_id, load_key
from central.patrols.models import PatrolPlan, PatrolPoolMember, PatrolTask
from central.patrols.plan import CENTRE_LEVEL, DayPlan, Reason, RegionNode, plan_day, province_pools
from central.profiles.assignment import region_profile_keys
from central.registry.models import Hall, Region
from common.profiles.loader import get_profile
from common.profiles.schema import PatrolRules
from common.worktime import CalendarMissingError, WorkCalendar

logger = logging.getLogger(__name__)

# Core tables for the day's bulk inserts (hundreds of rows: ORM objects would cost more than the draw).
_tasks = cast(Table, PatrolTask.__table__)
_members = cast(Table, PatrolPoolMember.__table__)
DRAWN_REASON = {"city": Reason.CHOSEN_CITY, "county": Reason.CHOSEN_COUNTY}


class PlanRefused(Exception):
    """The plan asked for cannot be given; `status` is the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Registry:
    """The registry as the plan sees it: the region tree keyed by code, and the ids behind the codes."""

    tree: dict[str, RegionNode]
    region_ids: dict[str, int]
    hall_ids: dict[str, int]
    rules: dict[str, PatrolRules]  # by region code


def load_registry(session: Session, *, default_profile_key: str) -> Registry:
    # Plain columns, not ORM objects: the whole province's tree is read on every draw.
    regions = session.execute(
        select(Region.id, Region.code, Region.name, Region.level, Region.parent_id).order_by(Region.code)
    ).all()
    by_id = {r.id: r for r in regions}
    centres: dict[int, str] = {}
    hall_ids: dict[str, int] = {}
    for hall_id, code, region_id, level in session.execute(
        select(Hall.id, Hall.code, Hall.region_id, Hall.level).order_by(Hall.code)
    ):
        region = by_id.get(region_id)
        if region is not None and CENTRE_LEVEL.get(region.level) == level:
            centres.setdefault(region.id, code)  # several: the first by code is the centre
            hall_ids[code] = hall_id
    tree = {
        r.code: RegionNode(
            r.code,
            r.name,
            r.level,
            by_id[r.parent_id].code if r.parent_id in by_id else None,
            centres.get(r.id),
        )
        for r in regions
    }
    profile_keys = region_profile_keys(session, default_key=default_profile_key)
    rules = {r.code: get_profile(profile_keys.get(r.id, default_profile_key)).patrols for r in regions}
    return Registry(tree, {r.code: r.id for r in regions}, hall_ids, rules)


def published_plan(session: Session, *, day: date) -> PatrolPlan | None:
    return session.scalar(select(PatrolPlan).where(PatrolPlan.day == day))


def publish_plan(
    session: Session,
    *,
    day: date,
    today: date,
    calendar: WorkCalendar,
    key_file: Path | None,
    default_profile_key: str,
    now: datetime,
) -> PatrolPlan | None:
    """The day's published plan, drawn now if `day` is today and none is; None on a day off.

    PlanRefused: 409 for a day after today, 404 for a past day without a plan.
    CalendarMissingError: the day's year is not in the calendar (never guessed).
    DrawKeyError: the plan must be drawn and the key cannot be read (a published one reads without).
    """
    if day > today:
        raise PlanRefused(409, f"the plan of {day} is drawn on that day, not before (明日计划当日抽取)")
    existing = published_plan(session, day=day)
    if existing is not None:
        return existing
    if not calendar.is_workday(day):
        return None
    if day < today:
        raise PlanRefused(404, f"no patrol plan was published for {day} (当日未发布巡查计划)")
    key = load_key(key_file)
    registry = load_registry(session, default_profile_key=default_profile_key)
    try:
        drawn = _draw(session, registry, day=day, calendar=calendar, key=key)
        plan = _store(session, registry, drawn, key=key, now=now)
        session.commit()
    except IntegrityError:  # another instance published the day first: theirs stands
        session.rollback()
        logger.info("the plan of %s was published by another instance meanwhile", day)
        return published_plan(session, day=day)
    logger.info("patrol plan of %s published: %d patrols, drawn %s", day, len(drawn.patrols), drawn.drawn)
    return plan


def plan_of_day(
    session: Session,
    *,
    day: date,
    today: date,
    calendar: WorkCalendar,
    key_file: Path | None,
    default_profile_key: str,
    now: datetime,
) -> PatrolPlan | None:
    """`publish_plan` for the API, pages and CLI: every refusal a PlanRefused with its status and a
    message in both languages (409 for a missing calendar year, 503 for an unreadable key)."""
    try:
        return publish_plan(
            session,
            day=day,
            today=today,
            calendar=calendar,
            key_file=key_file,
            default_profile_key=default_profile_key,
            now=now,
        )
    except CalendarMissingError as exc:
        raise PlanRefused(409, f"{exc}: enter the year first (工作日历缺少该年度，须先录入)") from exc
    except DrawKeyError as exc:
        logger.error("%s", exc)
        raise PlanRefused(503, str(exc)) from exc


def plan_by_settings(
    session: Session, *, settings: Settings, now: datetime, day: date | None = None
) -> PatrolPlan | None:
    """`plan_of_day` outside a request (the job, the CLI, the demo): the calendar as stored, the key and
    profile of the deployment's settings, today in hall time unless `day` is given."""
    today = shanghai_date(now)
    return plan_of_day(
        session,
        day=day or today,
        today=today,
        calendar=load_calendar(session),
        key_file=settings.patrol_key_file,
        default_profile_key=settings.rule_profile,
        now=now,
    )


def _draw(session: Session, registry: Registry, *, day: date, calendar: WorkCalendar, key: bytes) -> DayPlan:
    return plan_day(
        registry.tree,
        day=day,
        day_ordinal=calendar.count_through(day),
        rules_for=registry.rules.__getitem__,
        inspectors=_inspectors(session, registry),
        waited=_waited(session, registry, day=day, calendar=calendar),
        key=key,
    )


def _inspectors(session: Session, registry: Registry) -> dict[str, list[str]]:
    """Each body's inspectors: active users of role inspector whose scope is the body's region."""
    codes = {region_id: code for code, region_id in registry.region_ids.items()}
    rows = session.execute(
        select(User.username, User.scope_id).where(
            User.role == Role.INSPECTOR.value, User.scope_kind == "region", User.active.is_(True)
        )
    )
    found: dict[str, list[str]] = defaultdict(list)
    for username, scope_id in rows:
        if scope_id in codes:
            found[codes[scope_id]].append(username)
    return found


def _waited(
    session: Session, registry: Registry, *, day: date, calendar: WorkCalendar
) -> dict[str, dict[str, int]]:
    """Per pool, working days each candidate waited through `day` since it was last drawn or joined;
    regions joining a pool today are recorded as members from today (waited 0)."""
    codes = {region_id: code for code, region_id in registry.region_ids.items()}
    waited: dict[str, dict[str, int]] = {}
    for pool in province_pools(registry.tree, registry.rules.__getitem__):
        since = {
            codes[region_id]: joined
            for region_id, joined in session.execute(
                select(PatrolPoolMember.region_id, PatrolPoolMember.since).where(
                    PatrolPoolMember.pool == pool.key
                )
            )
            if region_id in codes
        }
        last = {
            codes[region_id]: drawn_day
            for region_id, drawn_day in session.execute(
                select(PatrolTask.region_id, func.max(PatrolTask.day))
                .where(
                    PatrolTask.body_region_id == registry.region_ids[pool.province],
                    PatrolTask.reason == DRAWN_REASON[pool.level].value,
                    PatrolTask.day < day,
                )
                .group_by(PatrolTask.region_id)
            )
            if region_id in codes
        }
        counts: dict[str, int] = {}
        joining = [c for c in pool.candidates if c not in since]
        if joining:
            session.execute(
                _members.insert(),
                [{"pool": pool.key, "region_id": registry.region_ids[c], "since": day} for c in joining],
            )
        for code in pool.candidates:
            known = [d for d in (since.get(code), last.get(code)) if d is not None]
            counts[code] = calendar.workdays_between(max(known), day) if known else 0
        waited[pool.key] = counts
    return waited


def _store(session: Session, registry: Registry, drawn: DayPlan, *, key: bytes, now: datetime) -> PatrolPlan:
    plan = PatrolPlan(day=drawn.day, published_at=now, key_id=key_id(key), drawn=drawn.drawn, gaps=drawn.gaps)
    session.add(plan)
    session.flush()
    names = sorted({p.inspector for p in drawn.patrols if p.inspector})
    users = {
        name: uid
        for name, uid in session.execute(select(User.username, User.id).where(User.username.in_(names)))
    }
    rows = [
        {
            "plan_id": plan.id,
            "day": drawn.day,
            "body_region_id": registry.region_ids[p.body],
            "hall_id": registry.hall_ids[p.hall],
            "region_id": registry.region_ids[p.region],
            "reason": p.reason.value,
            "seq": p.seq,
            "inspector_id": users.get(p.inspector) if p.inspector else None,
        }
        for p in drawn.patrols
    ]
    if rows:  # one Core executemany: 600 ORM objects a day cost several times the whole draw
        session.execute(_tasks.insert(), rows)
    record(
        session,
        actor=SYSTEM,
        action="patrol.plan.published",
        target_type="patrol_plan",
        target_id=drawn.day.isoformat(),
        after={
            "patrols": len(drawn.patrols),
            "drawn": drawn.drawn,
            "gaps": drawn.gaps,
            "key_id": plan.key_id,
        },
        at=now,
    )
    session.flush()
    return plan

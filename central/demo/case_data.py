"""Demo cases: ~2,000 cases in every state across the last 60 days, as push-API events."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from central.core.clock import SHANGHAI
from central.demo.registry_data import COUNTER_ITEM_NO, person_name
from common.worktime import CalendarMissingError, WorkCalendar

# scenario → weight; open scenarios leave the case in that state, the rest close it.
SCENARIOS = {
    "received": 3,
    "refused_acceptance": 3,
    "correction_before_acceptance": 2,
    "accepted": 10,
    "undertaken": 9,
    "reviewed": 6,
    "approved": 3,
    "suspended": 4,
    "correction": 3,
    "extended": 3,
    "completed_on_time": 44,
    "completed_late": 5,
    "refused": 3,
    "revoked": 2,
}
REASONS = {
    "suspended": ["组织专家评审", "现场核查检验", "依法举行听证", "技术检测鉴定"],
    "extended": ["情况复杂，经负责人批准延长", "需征求相关部门意见"],
    "refused": ["申请材料不符合法定条件", "现场核查不符合要求"],
    "refused_acceptance": ["不属于本机关职权范围", "申请事项依法不需要取得行政许可"],
    "revoked": ["申请人主动撤回申请", "录入错误，依程序撤销"],
}


@dataclass
class _Case:
    number: str
    item: dict[str, Any]
    hall: str
    window: str
    staff: str
    applicant: str
    events: list[dict[str, Any]]


def _moment(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(9, 0), SHANGHAI) + timedelta(minutes=rng.randint(0, 7 * 60))


def _workday_near(calendar: WorkCalendar, day: date) -> date:
    while not calendar.is_workday(day):
        day -= timedelta(days=1)
    return day


def build_case_events(
    rng: random.Random, registry: dict[str, Any], *, calendar: WorkCalendar, now: datetime, count: int = 2000
) -> list[dict[str, Any]]:
    today = now.astimezone(SHANGHAI).date()
    departments = {d["code"]: d["hall"] for d in registry["departments"]}
    windows_by_dept: dict[str, list[str]] = {}
    for w in registry["windows"]:
        windows_by_dept.setdefault(w["department"], []).append(w["code"])
    staff_by_window = {(s["department"], s["window"]): s["code"] for s in registry["staff"]}
    names, weights = list(SCENARIOS), list(SCENARIOS.values())
    # the counter services have their own days (central.demo.counter_days), not this mix
    permits = [i for i in registry["items"] if not i["code"].endswith(f"-XK-{COUNTER_ITEM_NO:03d}")]
    events: list[dict[str, Any]] = []
    for n in range(count):
        item = rng.choice(permits)
        dept = item["department"]
        window = rng.choice(windows_by_dept[dept])
        case = _Case(
            number=f"{departments[dept][:6]}-{today:%Y}-{n + 1:06d}",
            item=item,
            hall=departments[dept],
            window=window,
            staff=staff_by_window[(dept, window)],
            applicant=person_name(rng),
            events=[],
        )
        scenario = rng.choices(names, weights)[0]
        start = _workday_near(calendar, today - timedelta(days=rng.randint(1, 60)))
        _play(case, scenario, start, today, calendar, rng)
        events.extend(e for e in case.events if e["at"] <= now.astimezone(SHANGHAI))
    for e in events:
        e["at"] = e["at"].isoformat()
    return events


def _play(
    case: _Case, scenario: str, start: date, today: date, calendar: WorkCalendar, rng: random.Random
) -> None:
    limit = case.item["promised_limit_days"] or case.item["legal_limit_days"]
    day = start
    seq = 0

    def add(kind: str, on: date, **extra: Any) -> None:
        nonlocal seq
        seq += 1
        at = _moment(min(on, today), rng)
        previous = case.events[-1]["at"] if case.events else None
        if previous is not None and at <= previous:
            at = previous + timedelta(minutes=rng.randint(5, 40))
        event = {
            "event_id": f"{case.number}-{seq:02d}",
            "case_no": case.number,
            "type": kind,
            "at": at,
            "item_code": case.item["code"],
            "hall_code": case.hall,
            "window_code": case.window,
            "staff_code": case.staff,
        }
        if kind == "received":
            event["applicant_name"] = case.applicant
        event.update(extra)
        case.events.append(event)

    def later(days: int) -> date:
        """`days` workdays on, but never past today (a date past the covered years is past today too)."""
        if not days:
            return day
        try:
            return min(calendar.add_workdays(day, days), today)
        except CalendarMissingError:
            return today

    add("received", day)
    if scenario == "received":
        return
    if scenario == "refused_acceptance":
        add("refused_acceptance", later(rng.randint(0, 2)), reason=rng.choice(REASONS["refused_acceptance"]))
        return
    if scenario == "correction_before_acceptance":
        add("correction_requested", later(rng.randint(0, 2)), reason="申请材料不齐全，一次性告知补正内容")
        return
    day = later(rng.choice((0, 0, 1)))
    add("accepted", day)
    stages = ["undertaken", "reviewed", "approved"]
    stop_at = {"accepted": 0, "undertaken": 1, "reviewed": 2, "approved": 3, "refused": 2}.get(scenario, 3)
    for stage in stages[:stop_at]:
        day = later(max(1, limit // 4 + rng.randint(-1, 1)))
        add(stage, day)
    if scenario in ("accepted", "undertaken", "reviewed", "approved"):
        return
    if scenario == "suspended":
        add("suspended", later(1), reason=rng.choice(REASONS["suspended"]))
        return
    if scenario == "correction":
        add("correction_requested", later(1), reason="材料需补正，已一次性告知")
        return
    if scenario == "extended":
        add("extended", later(1), days=rng.randint(5, 10), reason=rng.choice(REASONS["extended"]))
        return
    if scenario == "refused":
        add("refused", later(1), reason=rng.choice(REASONS["refused"]))
        return
    finish = later(rng.randint(limit + 1, limit + 6) if scenario == "completed_late" else 1)
    if rng.random() < 0.15 and scenario == "completed_on_time":
        add("suspended", finish, reason=rng.choice(REASONS["suspended"]))
        day = finish = later(rng.randint(1, 4))
        add("resumed", day)
        finish = later(1)
    add("completed", finish)
    if scenario == "revoked":
        add("revoked", later(rng.randint(1, 3)), reason=rng.choice(REASONS["revoked"]))

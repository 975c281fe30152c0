"""The stored projection (used for lists and million-case lights) must agree with replaying the log."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from central.cases.clock import clock_view
from central.cases.lifecycle import EventFact, EventType, ExtensionPolicy, TransitionError, replay
from central.cases.models import Case
from central.cases.projection import apply_projection
from central.cases.queries import _projection_view
from central.core.clock import SHANGHAI
from common.profiles import get_profile
from common.worktime import WorkCalendar
from common.worktime.official import official_years
from tests.central.cases.helpers import ev

CAL = WorkCalendar(official_years())
NEXT = {
    "accepted": ["undertaken", "suspended", "correction_requested", "extended", "completed"],
    "undertaken": ["reviewed", "suspended", "extended", "refused", "completed"],
    "reviewed": ["approved", "correction_requested", "completed"],
    "approved": ["completed", "suspended"],
    "suspended": ["resumed", "extended"],
    "correction_requested": ["correction_received"],
    "resumed": ["completed", "undertaken"],
    "correction_received": ["reviewed", "completed"],
    "extended": ["completed", "reviewed"],
    "completed": ["revoked"],
    "refused": [],
    "revoked": [],
}


def random_history(rng: random.Random, start: date) -> list[EventFact]:
    kind, moment = "accepted", datetime(start.year, start.month, start.day, 9, tzinfo=SHANGHAI)
    facts = [EventFact(type=EventType.ACCEPTED, at=moment, event_id="e0")]
    for n in range(1, rng.randint(1, 7)):
        options = NEXT[kind]
        if not options:
            break
        kind = rng.choice(options)
        moment += timedelta(days=rng.randint(0, 9), hours=rng.randint(0, 5))
        extra: dict[str, object] = {}
        if kind == "extended":
            extra = {"days": rng.randint(1, 10), "reason": "情况复杂"}
        elif kind == "suspended":
            extra = {"reason": "专家评审"}
        facts.append(EventFact(type=EventType(kind), at=moment, event_id=f"e{n}", **extra))  # type: ignore[arg-type]
    return facts


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 10**9),
    start=st.dates(min_value=date(2025, 9, 1), max_value=date(2026, 11, 30)),
    as_of_offset=st.integers(0, 60),
    profile=st.sampled_from(["sichuan-2011", "shenzhen-2007"]),
)
def test_projection_view_equals_replayed_view(
    seed: int, start: date, as_of_offset: int, profile: str
) -> None:
    facts = random_history(random.Random(seed), start)
    try:
        state = replay(facts, policy=ExtensionPolicy())
    except TransitionError:
        return  # e.g. a second extension: refused by the lifecycle, nothing to project
    as_of = max(start + timedelta(days=as_of_offset), max(f.at for f in facts).astimezone(SHANGHAI).date())
    rules = get_profile(profile)
    case = Case(case_no="P", promised_limit_days=10, legal_limit_days=20)
    apply_projection(case, state, calendar=CAL)
    replayed = clock_view(
        state, calendar=CAL, promised_limit=10, legal_limit=20, as_of=as_of, rules=rules.lights
    )
    projected = _projection_view(case, as_of, CAL, rules)
    if replayed.calendar_missing:
        assert projected.calendar_missing
        assert (projected.light, projected.due_date, projected.remaining_working_days) == (
            replayed.light,
            replayed.due_date,
            replayed.remaining_working_days,
        )
        return
    assert projected == replayed


def test_sql_light_filter_agrees_with_case_detail(client: TestClient, registry, clock) -> None:
    rng = random.Random(7)
    batch = []
    for n in range(120):
        start = date(2026, 9, 1) + timedelta(days=rng.randint(0, 80))
        for fact in random_history(rng, start):
            if fact.at.astimezone(SHANGHAI).date() >= date(2026, 11, 27):
                break
            extra = {k: v for k, v in (("days", fact.days), ("reason", fact.reason)) if v is not None}
            batch.append(
                ev(f"p{n}-{fact.event_id}", f"P{n:03d}", fact.type.value, fact.at.isoformat(), **extra)
            )
    result = client.post("/api/v1/cases/events", json=batch)
    if result.status_code != 200:  # drop the cases the lifecycle refuses (e.g. a second extension)
        bad = {r["case_no"] for r in result.json()["results"] if r["outcome"] == "conflict"}
        batch = [e for e in batch if e["case_no"] not in bad]
        assert client.post("/api/v1/cases/events", json=batch).status_code == 200
    clock.set_shanghai(2026, 11, 27)
    by_filter: dict[str, str] = {}
    for light in ("green", "yellow", "red"):
        page = client.get("/api/v1/cases", params={"light": light, "page_size": 500}).json()
        by_filter.update({c["case_no"]: light for c in page["items"]})
        assert [c["case_no"] for c in page["items"] if c["light"] != light] == [], (
            light,
            [str(c) for c in page["items"] if c["light"] != light][:2],
        )
    everything = client.get("/api/v1/cases", params={"page_size": 500}).json()["items"]
    assert len(by_filter) == sum(1 for c in everything if c["light"])
    assert len(set(by_filter.values())) == 3  # the sample exercises every light
    for case_no in rng.sample(sorted({c["case_no"] for c in everything}), 40):
        detail = client.get(f"/api/v1/cases/{case_no}").json()
        assert detail["light"] == by_filter.get(case_no), case_no

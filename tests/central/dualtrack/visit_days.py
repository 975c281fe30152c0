"""Generated days with each visit known, for the dual-track visits method: visits one after another
at the window's one customer seat, short enquiries and served visits of several minutes, and each
served visit's case entered while the citizen sits there. Uploaded through the real device endpoint
with each hour's spans, as an edge agent that reports them does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, timedelta

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from central.core.clock import SHANGHAI
from tests.central.dualtrack.days import HOURS, WEIGHTS, Window, hour_start, insert_cases
from tests.central.video.helpers import World, upload, visitors


@dataclass(frozen=True)
class VisitDay:
    spans: list[tuple[int, int]]  # (second of the day it began, seconds long), in start order
    cases: list[int]  # seconds of the day each case was entered


def generate_visits(
    rng: np.random.Generator,
    *,
    visits: float,
    enquiry: float,
    unrecorded: float = 0.0,
    second_cases: float = 0.05,
    without_visitor: int = 2,
) -> VisitDay:
    """Enquiries last 1–1.7 minutes, served visits 2.5–5; a served visitor's case is entered during
    the visit (a fifth of them with a second case), unless `unrecorded` (their case goes off the
    system). `without_visitor` cases are entered at random with nobody at the window (post)."""
    spans: list[tuple[int, int]] = []
    cases: list[int] = []
    moment = 0
    for hour, expected in zip(HOURS, visits * WEIGHTS, strict=True):
        moment = max(moment, hour * 3600 + (1800 if hour == 13 else 0))
        for _ in range(int(rng.poisson(expected))):
            moment += int(rng.integers(10, 40))  # the next citizen sits down
            if rng.random() < 0.1:  # a citizen who sits down to ask the way: a sit, not a visit
                spans.append((moment, int(rng.integers(15, 50))))
                moment += spans[-1][1] + int(rng.integers(10, 40))
            served = rng.random() >= enquiry
            seconds = int(rng.integers(150, 300)) if served else int(rng.integers(60, 100))
            spans.append((moment, seconds))
            if served and rng.random() >= unrecorded:
                cases.append(moment + int(rng.integers(20, seconds - 20)))
                if rng.random() < second_cases:
                    cases.append(moment + seconds - 10)
            moment += seconds
    opening = 9 * 3600
    cases += [int(s) for s in rng.integers(opening, 17 * 3600, without_visitor)]
    return VisitDay(spans, sorted(cases))


def upload_visits(
    client: TestClient,
    world: World,
    window: Window,
    day: date,
    generated: VisitDay,
    *,
    hours: Sequence[int] | None = None,
) -> None:
    """Every opening hour's count (or only `hours`'), with its spans."""
    by_hour: dict[int, list[tuple[int, int]]] = {hour: [] for hour in HOURS}
    for start, seconds in generated.spans:
        by_hour.setdefault(start // 3600, []).append((start % 3600, seconds))
    if hours is not None:
        by_hour = {hour: spans for hour, spans in by_hour.items() if hour in hours}
    items = []
    for hour, spans in sorted(by_hour.items()):
        visits = sum(1 for _offset, seconds in spans if seconds >= 60)  # the profile's visit time
        item = visitors(hour_start(day, hour), visits, window=window.code, seated=0.0)
        item["spans"] = [{"offset": offset, "seconds": seconds} for offset, seconds in spans]
        item["seated_seconds"] = float(min(3600, sum(seconds for _o, seconds in spans)))
        items.append(item)
    body = upload(client, world.headers[window.edge], *items)
    assert {r["outcome"] for r in body["results"]} == {"stored"}, body


def write_visit_day(
    client: TestClient, world: World, session: Session, window: Window, day: date, generated: VisitDay
) -> None:
    upload_visits(client, world, window, day, generated)
    insert_day_cases(session, window, day, generated.cases)
    session.commit()


def insert_day_cases(session: Session, window: Window, day: date, seconds: list[int]) -> None:
    midnight = hour_start(day, 0)
    insert_cases(session, window, [(midnight + timedelta(seconds=s)).astimezone(UTC) for s in seconds])


__all__ = ["SHANGHAI", "VisitDay", "generate_visits", "insert_day_cases", "upload_visits", "write_visit_day"]

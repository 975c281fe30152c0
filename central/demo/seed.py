"""Seed a realistic demo dataset through the same paths as production (registry import, event push)."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime

import yaml
from rich.progress import Progress
from sqlalchemy.orm import Session

from central.calendar.service import load_calendar
from central.cases.service import submit_raw_events
from central.core.actor import Actor
from central.demo.case_data import build_case_events
from central.demo.registry_data import build_registry
from central.registry.importer import import_registry_text

logger = logging.getLogger(__name__)

DEMO_ACTOR = Actor(kind="system", name="demo")


class DemoSeedError(RuntimeError):
    """The generated demo data was refused: a bug in the generator, reported loudly."""


@dataclass(frozen=True)
class DemoSummary:
    halls: int
    items: int
    cases: int
    events: int


def seed_demo(
    session: Session,
    *,
    now: datetime,
    default_profile_key: str,
    cases: int = 2000,
    seed: int = 20261127,
    progress: Progress | None = None,
) -> DemoSummary:
    rng = random.Random(seed)
    registry = build_registry(rng)
    import_registry_text(
        session,
        text=yaml.safe_dump(registry, allow_unicode=True),
        origin="demo registry",
        actor=DEMO_ACTOR,
        now=now,
    )
    calendar = load_calendar(session)
    events = build_case_events(rng, registry, calendar=calendar, now=now, count=cases)
    task = progress.add_task("生成演示办件", total=len(events)) if progress else None
    for start in range(0, len(events), 1000):
        batch = events[start : start + 1000]
        result = submit_raw_events(
            session,
            raw_events=batch,
            calendar=calendar,
            default_profile_key=default_profile_key,
            now=now,
            source="demo",
            actor=DEMO_ACTOR,
        )
        if not result.accepted:
            bad = [r for r in result.results if r.outcome in ("invalid", "conflict")][:3]
            raise DemoSeedError(f"demo events refused: {bad}")
        if progress and task is not None:
            progress.advance(task, len(batch))
    return DemoSummary(
        halls=len(registry["halls"]),
        items=len(registry["items"]),
        cases=len({e["case_no"] for e in events}),
        events=len(events),
    )

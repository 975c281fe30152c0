"""Computing the anomaly rules over a period and storing their hits, idempotently.

Each hall runs under its rule profile: the rules run once per profile in use, over that profile's
halls, each a single SQL statement (never a query per case). Hits are keyed (`HitDraft.key`): a hit
found again updates its evidence while it is open and keeps any decision; a new one is inserted
with ON CONFLICT DO NOTHING, so two instances running at once store each hit once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from central.anomalies.drafts import HitDraft, RuleContext
from central.anomalies.explain import RULE_CODES, summary
from central.anomalies.models import AnomalyHit, AnomalyRun
from central.anomalies.rules_clock import due_date_bunching, item_pace, pause_before_due
from central.anomalies.rules_windows import idle_department, outside_hours, unseen_acceptance
from central.anomalies.sql import fill_days
from central.audit.chain import record
from central.core.actor import Actor
from central.core.db import conflict_insert
from central.profiles.assignment import halls_by_profile
from central.registry.models import Item
from common.profiles.loader import get_profile
from common.profiles.schema import RuleProfile
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

Rule = Callable[[Session, RuleContext, Any], list[HitDraft]]
RULES: dict[str, Rule] = {
    "item_pace": item_pace,
    "due_date_bunching": due_date_bunching,
    "pause_before_due": pause_before_due,
    "outside_hours": outside_hours,
    "unseen_acceptance": unseen_acceptance,
    "idle_department": idle_department,
}
assert tuple(RULES) == RULE_CODES
# The days table reaches back far enough for the longest case a pause can interrupt.
CASE_LOOKBACK = timedelta(days=400)
MAX_PERIOD_DAYS = 400


class PeriodError(ValueError):
    """A period the rules cannot judge (reversed, or longer than MAX_PERIOD_DAYS)."""


@dataclass(frozen=True)
class RunReport:
    period_from: date
    period_to: date
    found: int
    added: int
    by_rule: dict[str, int]
    seconds: float


def check_period(period_from: date, period_to: date) -> None:
    if period_to < period_from:
        raise PeriodError(f"the period ends ({period_to}) before it starts ({period_from})")
    if (period_to - period_from).days + 1 > MAX_PERIOD_DAYS:
        raise PeriodError(f"a period is at most {MAX_PERIOD_DAYS} days")


def find_hits(
    session: Session,
    *,
    period_from: date,
    period_to: date,
    calendar: WorkCalendar,
    default_profile_key: str,
    only: Sequence[str] | None = None,
) -> list[HitDraft]:
    """Every enabled rule's hits in the period, profile by profile (nothing is written)."""
    check_period(period_from, period_to)
    groups = halls_by_profile(session, default_key=default_profile_key)
    found: list[HitDraft] = []
    for key, hall_ids in sorted(groups.items()):
        profile = get_profile(key)
        first = min(period_from - CASE_LOOKBACK, _history_start(period_from, profile))
        ctx = RuleContext(
            period_from=period_from,
            period_to=period_to,
            days=fill_days(session, calendar, first=first, last=period_to),
            profile=profile,
            hall_ids=sorted(hall_ids),
        )
        for code, rule in RULES.items():
            settings = getattr(profile.anomalies, code)
            if settings.enabled and (only is None or code in only):
                started = time.perf_counter()
                hits = rule(session, ctx, settings)
                logger.debug(
                    "%s/%s: %d hit(s) in %.2f s", key, code, len(hits), time.perf_counter() - started
                )
                found += hits
    return found


def _history_start(period_from: date, profile: RuleProfile) -> date:
    months = period_from.year * 12 + period_from.month - 1 - profile.anomalies.item_pace.history_months
    return date(months // 12, months % 12 + 1, 1) - CASE_LOOKBACK


def run_anomalies(
    session: Session,
    *,
    period_from: date,
    period_to: date,
    now: datetime,
    calendar: WorkCalendar,
    default_profile_key: str,
    instance: str,
    actor: Actor,
) -> RunReport:
    """Find and store the period's hits, record the run, audit what was new; commits."""
    started = time.perf_counter()
    drafts = find_hits(
        session,
        period_from=period_from,
        period_to=period_to,
        calendar=calendar,
        default_profile_key=default_profile_key,
    )
    keys = _profile_keys(session, default_profile_key)
    added = store_hits(session, drafts=drafts, now=now, profile_keys=keys)
    seconds = time.perf_counter() - started
    by_rule = {code: sum(1 for d in drafts if d.rule == code) for code in RULE_CODES}
    session.add(
        AnomalyRun(
            started_at=now,
            finished_at=now + timedelta(seconds=seconds),
            period_from=period_from,
            period_to=period_to,
            instance=instance,
            found=len(drafts),
            added=len(added),
            seconds=round(seconds, 3),
        )
    )
    if added:
        record(
            session,
            actor=actor,
            action="anomaly.run",
            target_type="anomaly_run",
            target_id=f"{period_from.isoformat()}..{period_to.isoformat()}",
            after={"found": len(drafts), "added": len(added), "by_rule": by_rule, "first_new_id": min(added)},
            at=now,
        )
    session.commit()
    logger.info(
        "anomaly rules %s..%s: %d hit(s), %d new, in %.2f s",
        period_from,
        period_to,
        len(drafts),
        len(added),
        seconds,
    )
    return RunReport(period_from, period_to, len(drafts), len(added), by_rule, seconds)


def _profile_keys(session: Session, default_key: str) -> dict[int, str]:
    return {
        hall_id: key
        for key, hall_ids in halls_by_profile(session, default_key=default_key).items()
        for hall_id in hall_ids
    }


def store_hits(
    session: Session, *, drafts: Sequence[HitDraft], now: datetime, profile_keys: dict[int, str]
) -> list[int]:
    """Insert the new hits and refresh the open ones' evidence; the ids inserted. Does not commit."""
    if not drafts:
        return []
    names = _item_names(session, {d.item_id for d in drafts if d.item_id is not None})
    rows = [
        {
            "rule": d.rule,
            "key": d.key,
            "hall_id": d.hall_id,
            "department_id": d.department_id,
            "item_id": d.item_id,
            "window_id": d.window_id,
            "case_id": d.case_id,
            "day_from": d.day_from,
            "day_to": d.day_to,
            "profile_key": profile_keys.get(d.hall_id, ""),
            "summary": summary(d.rule, d.evidence, item_name=names.get(d.item_id or 0, "")),
            "evidence": d.evidence,
            "status": "open",
            "first_found_at": now,
            "last_found_at": now,
        }
        for d in drafts
    ]
    known = _known(session, [d.key for d in drafts])
    fresh = [row for draft, row in zip(drafts, rows, strict=True) if draft.key not in known]
    insert = conflict_insert(session)
    for start in range(0, len(fresh), _ROWS):
        statement = insert(AnomalyHit).values(fresh[start : start + _ROWS])
        session.execute(statement.on_conflict_do_nothing(index_elements=["key"]))  # another instance's
    changed = []
    for draft, row in zip(drafts, rows, strict=True):
        stored = known.get(draft.key)
        if stored is not None and stored[0] == "open" and stored[1:] != (draft.evidence, draft.day_to):
            changed.append(
                {
                    "k": draft.key,
                    "summary": row["summary"],
                    "evidence": draft.evidence,
                    "day_to": draft.day_to,
                }
            )
    if changed:  # an open hit's evidence moved (a run of idle days grew, a month filled up)
        refresh = (
            update(AnomalyHit)
            .where(AnomalyHit.key == bindparam("k"), AnomalyHit.status == "open")
            .values(summary=bindparam("summary"), evidence=bindparam("evidence"), day_to=bindparam("day_to"))
            .execution_options(synchronize_session=False)
        )
        session.connection().execute(refresh, changed)
    seen = sorted(known)
    for start in range(0, len(seen), _CHUNK):
        session.execute(
            update(AnomalyHit)
            .where(AnomalyHit.key.in_(seen[start : start + _CHUNK]))
            .values(last_found_at=now)
            .execution_options(synchronize_session=False)
        )
    new = [draft.key for draft in drafts if draft.key not in known]
    added: list[int] = []
    for start in range(0, len(new), _CHUNK):  # another instance's insert of the same hit is not ours
        query = select(AnomalyHit.id).where(
            AnomalyHit.key.in_(new[start : start + _CHUNK]), AnomalyHit.first_found_at == now
        )
        added += session.scalars(query)
    logger.debug("hits: %d new, %d refreshed, %d seen again", len(fresh), len(changed), len(seen))
    return sorted(added)


_CHUNK = 500  # keys or rows per statement: far below every backend's bound-parameter limit


_ROWS = 1000  # rows per INSERT: 15 columns each stay under every backend's bound-parameter limit


def _known(session: Session, keys: list[str]) -> dict[str, tuple[str, Any, date]]:
    """The stored hits among `keys`: status, evidence and last day, to refresh only what moved."""
    found: dict[str, tuple[str, Any, date]] = {}
    for start in range(0, len(keys), _CHUNK):
        rows = session.execute(
            select(AnomalyHit.key, AnomalyHit.status, AnomalyHit.evidence, AnomalyHit.day_to).where(
                AnomalyHit.key.in_(keys[start : start + _CHUNK])
            )
        )
        found.update({key: (status, evidence, day_to) for key, status, evidence, day_to in rows})
    return found


def _item_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    found: dict[int, str] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        rows = session.execute(select(Item.id, Item.name).where(Item.id.in_(ordered[start : start + _CHUNK])))
        found.update({item_id: name for item_id, name in rows})
    return found

"""October 2026 at the provincial hall, for sampling: 40 ordinary cases closed in the month and 20 of
SZ-9's kinds (refusals, corrections, revocations, extensions, suspensions), plus a case closed in
September and one still open; and the inspectors who review (two province inspectors) or cannot
(a city inspector, whose jurisdiction does not hold the province)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from central.access.roles import Role
from tests.central.anomalies.helpers import Log, after, at, store, workdays
from tests.conftest import make_user

OCTOBER = workdays(date(2026, 9, 14), date(2026, 10, 16))  # accepted here, closed in October


def october_log() -> tuple[Log, dict[str, set[str]]]:
    """The log and each closed-in-October case's SZ-9 kinds."""
    log = Log()
    kinds: dict[str, set[str]] = {}
    days = [d for d in OCTOBER if after(d, 5) >= date(2026, 10, 8)][:20]
    for n in range(60):
        day = days[n % len(days)]
        accepted = at(day, 9 + n % 7, n % 50)
        if n < 40:
            kinds[log.case(accepted, done_after=5, camera=False)] = set()
        elif n < 44:
            kinds[log.case(accepted, done_after=5, closing="refused", camera=False)] = {"refusal"}
        elif n < 48:
            pause = [("correction_requested", after(day, 1), after(day, 2))]
            kinds[log.case(accepted, done_after=5, pauses=pause, camera=False)] = {"correction"}
        elif n < 52:
            kinds[log.case(accepted, done_after=5, revoked=after(day, 6), camera=False)] = {"revocation"}
        elif n < 56:
            kinds[log.case(accepted, done_after=5, extension=(after(day, 1), 3), camera=False)] = {
                "extension"
            }
        else:
            pause = [("suspended", after(day, 1), after(day, 3))]
            kinds[log.case(accepted, done_after=5, pauses=pause, camera=False)] = {"suspension"}
    log.case(at(date(2026, 9, 1)), done_after=5, camera=False)  # closed in September
    log.case(at(date(2026, 10, 28)), done_after=None, camera=False)  # still open
    return log, kinds


def seed_october(session: Session) -> dict[str, set[str]]:
    log, kinds = october_log()
    store(session, log)
    return kinds


def inspectors(db: Engine) -> dict[str, str]:
    """Usernames → passwords: two province inspectors, a city inspector, a post user, the supervisor."""
    return {
        "sichuan": make_user(db, "sichuan", role=Role.INSPECTOR, scope="region:510000"),
        "sichuan2": make_user(db, "sichuan2", role=Role.INSPECTOR, scope="region:510000"),
        "chengdu": make_user(db, "chengdu", role=Role.INSPECTOR, scope="region:510100"),
        "clerk": make_user(db, "clerk", role=Role.POST_USER, scope="department:SCJGJ"),
        "root": make_user(db, "root", role=Role.SYSTEM_SUPERVISOR, scope="*"),
    }

"""Each anomaly rule on a generated case log that contains its anomaly and on one that does not, on
both databases: the clean half year finds nothing at all; each planted anomaly is found by its rule
alone, with the evidence that shows it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from tests.central.anomalies.helpers import PERIOD, after, at, clean_log, hits, store, workdays

SEPTEMBER = workdays(*PERIOD)


def test_a_clean_half_year_has_no_hit(session: Session, registry: dict[str, int]) -> None:
    log = clean_log()
    log.case(at(date(2026, 9, 20)), done_after=5)  # Sunday, but a make-up working day (调休)
    store(session, log)
    assert hits(session) == []


@pytest.mark.parametrize("done_after", [0, 18], ids=["faster", "slower"])
def test_item_pace(session: Session, registry: dict[str, int], done_after: int) -> None:
    log = clean_log(last=date(2026, 8, 31))
    for day in SEPTEMBER[:-4]:  # September's completions take no time (or far too long)
        log.case(at(day), done_after=done_after)
    store(session, log)
    found = hits(session, period=(date(2026, 9, 1), date(2026, 12, 1)))
    pace = [h for h in found if h.rule == "item_pace"]
    assert pace and {h.rule for h in found} == {"item_pace"}
    first = pace[0]  # September's for the fast ones; the slow ones close in October
    assert {h.evidence["direction"] for h in pace} == {"faster" if done_after == 0 else "slower"}
    assert 4 <= first.evidence["history_mean_workdays"] <= 6
    assert first.evidence["history_cases"] >= 20 and first.day_from.day == 1


def test_item_pace_needs_history(session: Session, registry: dict[str, int]) -> None:
    log = clean_log(first=date(2026, 8, 17), last=date(2026, 8, 31))  # ten cases of history: too few
    for day in SEPTEMBER[:-4]:
        log.case(at(day), done_after=0)
    store(session, log)
    assert hits(session, rule="item_pace") == []


def test_due_date_bunching(session: Session, registry: dict[str, int]) -> None:
    log = clean_log(last=date(2026, 8, 31))
    for n, day in enumerate(SEPTEMBER[:12]):  # 8 of 12 closed on the promised due date (10 working days)
        log.case(at(day), done_after=10 if n % 3 else 5)
    store(session, log)
    found = hits(session, period=(date(2026, 9, 1), date(2026, 10, 31)))
    assert found and {h.rule for h in found} == {"due_date_bunching"}
    assert all(h.evidence["completed"] >= 10 and h.evidence["share"] >= 0.3 for h in found)


def test_pause_before_due(session: Session, registry: dict[str, int]) -> None:
    """The days left count as the clock stood: earlier pauses and extensions move the due date."""
    log = clean_log(last=date(2026, 8, 31))
    day = SEPTEMBER[0]
    # Suspended with 7 working days left, resumed, then corrections asked with 1 left: only the
    # second is a hit — and only because the first pause's 3 working days are counted.
    plain = log.case(
        at(day),
        done_after=12,
        pauses=[
            ("suspended", after(day, 3), after(day, 6)),
            ("correction_requested", after(day, 12), after(day, 14)),
        ],
    )
    # Extended by 5: suspended with 1 of its 15 working days left.
    extended = log.case(
        at(day, 11),
        done_after=15,
        extension=(after(day, 1), 5),
        pauses=[("suspended", after(day, 14), after(day, 15))],
    )
    # Extended by 5 too, suspended with 6 days left: no hit.
    log.case(
        at(day, 14),
        done_after=10,
        extension=(after(day, 1), 5),
        pauses=[("suspended", after(day, 9), after(day, 10))],
    )
    for later in SEPTEMBER[1:]:
        log.case(at(later), done_after=5)
    store(session, log)
    found = hits(session, rule="pause_before_due", period=(date(2026, 9, 1), date(2026, 10, 31)))
    assert sorted(
        (h.evidence["case_no"], h.evidence["event"], h.evidence["remaining_workdays"]) for h in found
    ) == [
        (plain, "correction_requested", 1),
        (extended, "suspended", 1),
    ]
    assert all(h.case_id is not None for h in found)


def test_outside_hours(session: Session, registry: dict[str, int]) -> None:
    log = clean_log(last=date(2026, 8, 31))
    for day in SEPTEMBER:
        log.case(at(day), done_after=5)
    late = log.case(at(SEPTEMBER[3], 20, 30), done_after=5)  # 20:30 on a working day
    sunday = log.case(at(date(2026, 9, 13), 10), done_after=5)  # a Sunday
    log.case(at(SEPTEMBER[5], 17, 50), done_after=5)  # within 30 minutes' grace of 17:30
    log.case(at(date(2026, 9, 20), 10), done_after=5)  # a make-up working day (调休): in hours
    store(session, log)
    found = hits(session)
    assert {h.rule for h in found} == {"outside_hours"}
    listed = {(h.evidence["day"], h.evidence["workday"], h.evidence["listed"][0]["case_no"]) for h in found}
    assert listed == {(SEPTEMBER[3].isoformat(), True, late), ("2026-09-13", False, sunday)}


def test_unseen_acceptance(session: Session, registry: dict[str, int]) -> None:
    log = clean_log(last=date(2026, 8, 31))
    for day in SEPTEMBER:
        log.case(at(day), done_after=5)
    unseen = log.case(at(SEPTEMBER[2], 14, 5), done_after=5, camera=False)
    log.hours[at(SEPTEMBER[2], 14)] = (0, 0.0)  # the camera reported the hour and counted nobody
    log.case(at(SEPTEMBER[3], 14, 5), done_after=5, camera=False)  # no count sent: no evidence
    log.case(at(SEPTEMBER[4], 14, 5), done_after=5, camera=False)
    log.hours[at(SEPTEMBER[4], 14)] = (0, 120.0)  # no visit counted, but someone sat there
    store(session, log)
    found = hits(session)
    assert [h.rule for h in found] == ["unseen_acceptance"]
    assert found[0].evidence["listed"][0]["case_no"] == unseen and found[0].case_id is not None
    assert found[0].evidence["listed"][0]["hour"] == "14:00" and found[0].window_id is not None


@pytest.mark.parametrize("idle_days", [2, 4])
def test_idle_department(session: Session, registry: dict[str, int], idle_days: int) -> None:
    log = clean_log(last=date(2026, 8, 31))
    quiet = SEPTEMBER[5 : 5 + idle_days]
    for day in SEPTEMBER:
        if day in quiet:
            log.staffed[day] = 7 * 3600.0  # the staff sat at the window all day; no case came in
        else:
            log.case(at(day), done_after=5)
    store(session, log)
    found = hits(session)
    if idle_days < 3:
        assert found == []
        return
    assert [h.rule for h in found] == ["idle_department"]
    assert (found[0].day_from, found[0].day_to) == (quiet[0], quiet[-1])
    assert found[0].evidence["workdays"] == idle_days and found[0].evidence["staffed_hours"] == 7 * idle_days

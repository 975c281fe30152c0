"""The case state machine: every allowed path and the refusals, with their reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from central.cases.lifecycle import (
    CaseStatus,
    EventFact,
    EventType,
    ExtensionPolicy,
    TransitionError,
    replay,
)

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
POLICY = ExtensionPolicy(max_times=1, max_workdays=10)


def facts(*types: str | tuple[str, dict[str, object]]) -> list[EventFact]:
    out = []
    for n, spec in enumerate(types):
        kind, extra = (spec, {}) if isinstance(spec, str) else spec
        out.append(EventFact(type=EventType(kind), at=T0 + timedelta(days=n), event_id=f"e{n}", **extra))  # type: ignore[arg-type]
    return out


SUSPEND = ("suspended", {"reason": "专家评审"})
EXTEND = ("extended", {"days": 10, "reason": "情况复杂"})


@pytest.mark.parametrize(
    ("events", "status"),
    [
        (["received"], CaseStatus.RECEIVED),
        (["accepted"], CaseStatus.ACCEPTED),
        (["received", "accepted", "undertaken", "reviewed", "approved", "completed"], CaseStatus.COMPLETED),
        (["received", "accepted", "completed"], CaseStatus.COMPLETED),
        (["received", "refused_acceptance"], CaseStatus.REFUSED_ACCEPTANCE),
        (["received", "accepted", "undertaken", "refused"], CaseStatus.REFUSED),
        (["received", "correction_requested"], CaseStatus.AWAITING_CORRECTION),
        (["received", "correction_requested", "correction_received", "accepted"], CaseStatus.ACCEPTED),
        (["accepted", "undertaken", SUSPEND], CaseStatus.SUSPENDED),
        (["accepted", "undertaken", SUSPEND, "resumed"], CaseStatus.UNDERTAKEN),
        (["accepted", EXTEND, "completed"], CaseStatus.COMPLETED),
        (["accepted", SUSPEND, EXTEND, "resumed", "completed"], CaseStatus.COMPLETED),
        (["accepted", "completed", "revoked"], CaseStatus.REVOKED),
        (["received", "revoked"], CaseStatus.REVOKED),
    ],
)
def test_allowed_paths(events: list[str], status: CaseStatus) -> None:
    assert replay(facts(*events), policy=POLICY).status is status


@pytest.mark.parametrize(
    ("events", "bad_index", "reason"),
    [
        (["undertaken"], 0, "must start with received or accepted"),
        (["accepted", "completed", "undertaken"], 2, "only revoked may follow"),
        (["accepted", "completed", "completed"], 2, "only revoked may follow"),
        (["accepted", "revoked", "revoked"], 2, "revoked; nothing may follow"),
        (["accepted", EXTEND, EXTEND], 2, "already extended"),
        (["accepted", ("extended", {"days": 11, "reason": "x"})], 1, "1 to 10 working days"),
        (["accepted", ("extended", {"days": 5})], 1, "needs a reason"),
        (["accepted", ("suspended", {})], 1, "needs a reason"),
        (["accepted", "resumed"], 1, "needs a case that is suspended"),
        (["accepted", SUSPEND, SUSPEND], 2, "already suspended"),
        (["accepted", SUSPEND, "completed"], 2, "resumed must come before completed"),
        (["accepted", "correction_requested", "resumed"], 2, "needs a case that is suspended"),
        (["received", SUSPEND], 1, "only an accepted case can be suspended"),
        (["received", EXTEND], 1, "only an accepted case can be extended"),
        (["received", "completed"], 1, "completed cannot follow received"),
        (["accepted", "accepted"], 1, "accepted cannot follow accepted"),
        (["received", "received"], 1, "already received"),
        (["accepted", "approved", "refused"], 2, "refused cannot follow approved"),
    ],
)
def test_impossible_transitions_are_refused_with_reason(
    events: list[str], bad_index: int, reason: str
) -> None:
    with pytest.raises(TransitionError) as info:
        replay(facts(*events), policy=POLICY)
    assert reason in info.value.reason
    assert info.value.event_id == f"e{bad_index}"


def test_pause_before_acceptance_does_not_touch_the_clock() -> None:
    state = replay(
        facts("received", "correction_requested", "correction_received", "accepted"), policy=POLICY
    )
    assert [p.counts for p in state.pauses] == [False]


def test_profile_may_allow_more_extensions() -> None:
    state = replay(facts("accepted", EXTEND, EXTEND), policy=ExtensionPolicy(max_times=2, max_workdays=10))
    assert state.extension_days == 20

"""Generated signals with their lifecycle (issued → corrected, escalated to red, investigated,
closed with a finding) as it stood at the end of the scored day: a step after that day has not
happened yet. Each step that happened is also a timeline row (signal_events), as the services write."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from bench.bulk import NULL, Rows, text_where
from bench.scores_data import CLOSES, OPENS, Days, moment

logger = logging.getLogger(__name__)

SCHEDULER = "system:signal-scheduler"  # the actor label the scheduler's steps carry


@dataclass
class SignalTables:
    """The signals and their timeline, filled by every source; `day` is the scored day's index."""

    days: Days
    day: int
    rng: np.random.Generator
    signals: Rows = field(default_factory=lambda: Rows("signals"))
    events: Rows = field(default_factory=lambda: Rows("signal_events"))

    def when(self, index: np.ndarray, seconds: np.ndarray | int) -> np.ndarray:
        """Moments on working days (indices); NULL where the index is NULL or after the scored day."""
        happened = (index != NULL) & (index <= self.day)
        return np.where(happened, moment(self.days.at(np.where(happened, index, 0)), seconds), NULL)

    def add(
        self,
        *,
        issued: np.ndarray,
        color: np.ndarray,
        reason: np.ndarray,
        origin: str,
        hall: np.ndarray,
        dept: np.ndarray,
        case: np.ndarray | None = None,
        dedupe: np.ndarray | None = None,
        corrected: np.ndarray | None = None,
        escalated: np.ndarray | None = None,
        investigated: np.ndarray | None = None,
        closed: np.ndarray | None = None,
        finding: np.ndarray | None = None,
        issued_by: str = SCHEDULER,
        issued_seconds: np.ndarray | None = None,
    ) -> np.ndarray:
        """Signals issued on working days `issued` (indices, none after the scored day); the other
        arrays are the day of each later step (NULL: never). Answers their ids."""
        n, rng = len(issued), self.rng
        none = np.full(n, NULL, dtype=np.int64)
        at_issue = (
            issued_seconds if issued_seconds is not None else rng.integers(60, 3600, n)
        )  # the night pass
        steps = {
            "corrected": none if corrected is None else corrected,
            "escalated": none if escalated is None else escalated,
            "investigated": none if investigated is None else investigated,
            "closed": none if closed is None else closed,
        }
        # A step happens only by the scored day, never before the issue, and each after the one before.
        stamp: dict[str, np.ndarray] = {}
        floor = issued.copy()
        for name, given in steps.items():
            index = np.where((given != NULL) & (given >= floor) & (given <= self.day), given, NULL)
            stamp[name] = self.when(
                index, np.where(index == issued, CLOSES, OPENS) + rng.integers(0, 7200, n)
            )
            floor = np.where(index != NULL, index, floor)
        red = (color == "red") | (stamp["escalated"] != NULL)
        status = np.select(
            [
                stamp["closed"] != NULL,
                stamp["investigated"] != NULL,
                stamp["escalated"] != NULL,
                stamp["corrected"] != NULL,
            ],
            ["closed", "investigating", "escalated", "corrected"],
            np.where(rng.random(n) < 0.3, "acknowledged", "issued"),
        ).astype(object)
        issued_at = moment(self.days.at(issued), at_issue)
        updated = np.maximum.reduce([issued_at, *stamp.values()])
        yellow = color == "yellow"
        ids = self.signals.add(
            n,
            color=np.where(red, "red", color).astype(object),
            initial_color=color.astype(object),
            origin=origin,
            reason_code=reason.astype(object),
            reason=None,
            evidence=None,
            dedupe_key=dedupe,
            case_id=case if case is not None else none,
            hall_id=hall,
            department_id=dept,
            status=status,
            issued_at=issued_at,
            issued_on=self.days.at(issued),
            issued_by=issued_by,
            correct_by=np.where(yellow, self.days.at(issued + 1), NULL),  # the profile's 1 working day
            escalated_at=stamp["escalated"],
            closed_at=stamp["closed"],
            finding=text_where(stamp["closed"] != NULL, finding if finding is not None else "no_fault"),
            updated_at=updated,
        )
        before = np.where(rng.random(n) < 0.3, "acknowledged", "issued").astype(object)
        for name, action, to in (
            ("corrected", "correct", "corrected"),
            ("escalated", "escalate", "escalated"),
            ("investigated", "investigate", "investigating"),
            ("closed", "close", "closed"),
        ):
            took = stamp[name] != NULL
            k = int(took.sum())
            self.events.add(
                k,
                signal_id=ids[took],
                at=stamp[name][took],
                action=action,
                from_status=before[took],
                to_status=to,
                actor=SCHEDULER if name in ("corrected", "escalated") else "监察员",
                note=None,
            )
            before = np.where(took, to, before).astype(object)
        return ids

    def light(
        self,
        *,
        case: np.ndarray,
        hall: np.ndarray,
        dept: np.ndarray,
        due: np.ndarray,
        accepted: np.ndarray,
        closed: np.ndarray,
    ) -> None:
        """The light signal of each case that had one by the scored day (`light:<case id>`): a
        yellow issued 3 working days before the due date (yellow_remaining_workdays), most of them
        corrected within the working day allowed, the rest escalated to red the day after that or
        when the case turned red; a tenth of the red cases went red without a yellow (issued red).
        A yellow still awaiting correction when its case closes is corrected by the scheduler."""
        rng, n = self.rng, len(case)
        start = np.maximum(due - 3, accepted)
        turns_red = np.where((closed == NULL) | (closed > due), due + 1, NULL)
        direct = (turns_red != NULL) & (rng.random(n) < 0.1)
        issued = np.where(direct, turns_red, start)
        keep = (issued <= self.day) & ((closed == NULL) | (issued <= closed))
        fixes = rng.random(n) < 0.6
        corrected = np.where(fixes, issued + rng.integers(0, 2, n), NULL)
        late = np.where(turns_red != NULL, np.minimum(issued + 2, turns_red), issued + 2)
        escalated = np.where(~fixes & ~direct & ((closed == NULL) | (closed >= late)), late, NULL)
        auto = (corrected == NULL) & (escalated == NULL) & (closed != NULL) & ~direct
        corrected = np.where(auto, closed, corrected)
        red_now = direct | (escalated != NULL)
        closes = np.where(
            red_now & (rng.random(n) < 0.3),
            np.maximum(issued, np.where(escalated == NULL, issued, escalated)) + rng.integers(2, 6, n),
            NULL,
        )
        k = keep
        self.add(
            issued=issued[k],
            color=np.where(direct, "red", "yellow")[k],
            reason=np.where(direct, "light_red", "light_yellow")[k],
            origin="light",
            hall=hall[k],
            dept=dept[k],
            case=case[k],
            dedupe=np.char.add("light:", case[k].astype(str)).astype(object),
            corrected=corrected[k],
            escalated=np.where(direct, NULL, escalated)[k],
            closed=closes[k],
            finding=np.where(rng.random(n) < 0.3, "fault", "no_fault")[k],
        )

    def follow_through(
        self,
        *,
        issued: np.ndarray,
        reason: str | np.ndarray,
        origin: str,
        hall: np.ndarray,
        dept: np.ndarray,
        dedupe: np.ndarray,
        issued_seconds: np.ndarray | None = None,
    ) -> np.ndarray:
        """A yellow a decision raised (an absence or patrol finding confirmed, a follow-up overdue):
        70 % corrected within the working day allowed, the rest escalated to red after it."""
        rng, n = self.rng, len(issued)
        fixes = rng.random(n) < 0.7
        reasons = np.full(n, reason, dtype=object) if isinstance(reason, str) else reason
        return self.add(
            issued=issued,
            color=np.full(n, "yellow", dtype=object),
            reason=reasons,
            origin=origin,
            hall=hall,
            dept=dept,
            dedupe=dedupe,
            corrected=np.where(fixes, issued + rng.integers(0, 2, n), NULL),
            escalated=np.where(fixes, NULL, issued + 2),
            issued_by="监察员" if origin != "followup" else SCHEDULER,
            issued_seconds=issued_seconds,
        )

"""Where an explained line's source record is shown in the console (issue 17 item 2: every point links
to its record). One query per kind of record among the lines asked for, never one per line.

Lines without a single record (a share of cases, the satisfaction rate, a clamp) have no link; nor
has a record the console has no page for. The page itself still checks the reader's rights.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.cases.models import Case
from central.core.clock import shanghai_date
from central.patrols.models import PatrolFinding
from central.ratings.models import FollowUp, Rating
from central.registry.models import Hall
from central.video.models import AbsenceEvent

logger = logging.getLogger(__name__)

Source = tuple[str, int]
BATCH = 500  # ids per IN list


def chunks(ids: Collection[int]) -> Iterable[list[int]]:
    ordered = sorted(ids)
    return (ordered[start : start + BATCH] for start in range(0, len(ordered), BATCH))


def _by_id(kind: str, path: str) -> Callable[[Session, Collection[int]], dict[Source, str]]:
    def links(_session: Session, ids: Collection[int]) -> dict[Source, str]:
        return {(kind, source_id): f"{path}/{source_id}" for source_id in ids}

    return links


def _case_url(case_no: str) -> str:
    return f"/console/cases/{quote(case_no, safe='')}"


def _cases(session: Session, ids: Collection[int]) -> dict[Source, str]:
    found: dict[Source, str] = {}
    for batch in chunks(ids):
        rows = session.execute(select(Case.id, Case.case_no).where(Case.id.in_(batch)))
        found.update({("case", case_id): _case_url(case_no) for case_id, case_no in rows})
    return found


def _ratings(session: Session, ids: Collection[int]) -> dict[Source, str]:
    """A 差评 shows on its follow-up's page; any other rating on its case's page, if it has a case."""
    found: dict[Source, str] = {}
    for batch in chunks(ids):
        rows = session.execute(
            select(Rating.id, FollowUp.id, Case.case_no)
            .outerjoin(FollowUp, FollowUp.rating_id == Rating.id)
            .outerjoin(Case, Case.id == Rating.case_id)
            .where(Rating.id.in_(batch))
        )
        for rating_id, followup_id, case_no in rows:
            if followup_id is not None:
                found[("rating", rating_id)] = f"/console/ratings/followups/{followup_id}"
            elif case_no is not None:
                found[("rating", rating_id)] = _case_url(case_no)
    return found


def _absences(session: Session, ids: Collection[int]) -> dict[Source, str]:
    """The hall's video page of the absence's day, at the absence."""
    found: dict[Source, str] = {}
    for batch in chunks(ids):
        rows = session.execute(
            select(AbsenceEvent.id, AbsenceEvent.started_at, Hall.code)
            .join(Hall, Hall.id == AbsenceEvent.hall_id)
            .where(AbsenceEvent.id.in_(batch))
        )
        for absence_id, started_at, hall_code in rows:
            day = shanghai_date(started_at).isoformat()
            found[("absence", absence_id)] = (
                f"/console/video/halls/{quote(hall_code, safe='')}?day={day}#absence-{absence_id}"
            )
    return found


def _findings(session: Session, ids: Collection[int]) -> dict[Source, str]:
    """The patrol in which the finding was recorded (its page lists the findings and their review)."""
    found: dict[Source, str] = {}
    for batch in chunks(ids):
        rows = session.execute(
            select(PatrolFinding.id, PatrolFinding.session_id).where(PatrolFinding.id.in_(batch))
        )
        found.update(
            {("patrol_finding", fid): f"/console/patrols/sessions/{session_id}" for fid, session_id in rows}
        )
    return found


LINKERS: dict[str, Callable[[Session, Collection[int]], dict[Source, str]]] = {
    "signal": _by_id("signal", "/console/signals"),
    "investigation": _by_id("investigation", "/console/investigations"),
    "follow_up": _by_id("follow_up", "/console/ratings/followups"),
    "rating": _ratings,
    "absence": _absences,
    "patrol_finding": _findings,
    "case": _cases,
}


def source_links(session: Session, sources: Iterable[tuple[str, int | None]]) -> dict[Source, str]:
    """{(source_kind, source_id): console URL} for the sources that have a page."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for kind, source_id in sources:
        if source_id is not None and kind in LINKERS:
            wanted[kind].add(source_id)
    found: dict[Source, str] = {}
    for kind, ids in wanted.items():
        found.update(LINKERS[kind](session, sorted(ids)))
    return found


__all__ = ["source_links"]

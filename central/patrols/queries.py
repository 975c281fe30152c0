"""Reading a published plan for a jurisdiction: the bodies inside it and their patrols."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from central.access.models import User
from central.patrols.models import PatrolPlan, PatrolTask
from central.patrols.plan import REASON_LABELS, Reason
from central.patrols.schemas import PatrolTaskPublic, PlanPublic, RegionRef
from central.registry.jurisdiction import Jurisdiction, ScopeKind
from central.registry.models import Hall, Region

logger = logging.getLogger(__name__)


def plan_public(session: Session, plan: PatrolPlan, *, within: Jurisdiction) -> PlanPublic:
    """The plan as the jurisdiction sees it: its bodies' patrols, and the province's draw only for
    a jurisdiction holding that province (a city does not learn which others were drawn)."""
    names = {code: name for code, name in session.execute(select(Region.code, Region.name))}
    body, place = aliased(Region), aliased(Region)
    query = (
        select(PatrolTask, body, place, Hall, User.username)
        .join(body, body.id == PatrolTask.body_region_id)
        .join(place, place.id == PatrolTask.region_id)
        .join(Hall, Hall.id == PatrolTask.hall_id)
        .outerjoin(User, User.id == PatrolTask.inspector_id)
        .where(PatrolTask.plan_id == plan.id)
        .order_by(body.code, PatrolTask.reason, place.code, PatrolTask.seq)
    )
    if within.kind is not ScopeKind.DEPLOYMENT:
        query = query.where(PatrolTask.body_region_id.in_(sorted(within.region_ids)))
    patrols = [
        PatrolTaskPublic(
            id=task.id,
            body=RegionRef(code=b.code, name=b.name),
            hall_code=hall.code,
            hall_name=hall.name,
            region=RegionRef(code=p.code, name=p.name),
            reason=task.reason,
            reason_label=REASON_LABELS[Reason(task.reason)],
            seq=task.seq,
            inspector=inspector,
        )
        for task, b, p, hall, inspector in session.execute(query)
    ]
    visible = _visible_codes(session, within)
    return PlanPublic(
        day=plan.day,
        working_day=True,
        published_at=plan.published_at,
        key_id=plan.key_id,
        drawn={
            pool: [RegionRef(code=c, name=names.get(c, c)) for c in codes]
            for pool, codes in sorted(plan.drawn.items())
            if visible is None or pool.split(":")[0] in visible
        },
        gaps=[RegionRef(code=c, name=names.get(c, c)) for c in plan.gaps if visible is None or c in visible],
        patrols=patrols,
    )


def _visible_codes(session: Session, within: Jurisdiction) -> set[str] | None:
    if within.kind is ScopeKind.DEPLOYMENT:
        return None
    return set(session.scalars(select(Region.code).where(Region.id.in_(sorted(within.region_ids)))))

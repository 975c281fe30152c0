"""Data supervision reads: the hits of a jurisdiction (filtered, paged, with the names their evidence
refers to), the open hits per hall and rule, the rules explained for a profile, the latest run."""

from __future__ import annotations

import logging
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from central.access.deps import Principal
from central.anomalies.explain import LABELS, RULE_CODES, enabled, explanations
from central.anomalies.models import AnomalyHit, AnomalyRun
from central.anomalies.review import may_supervise
from central.anomalies.schemas import (
    AnomalyError,
    HallCount,
    HitPage,
    HitPublic,
    HitStatus,
    ProfileRules,
    RuleExplained,
    RunPublic,
)
from central.cases.models import Case
from central.profiles.assignment import hall_profile_keys
from central.registry.models import Department, Hall, Item, ServiceWindow
from common.profiles.loader import get_profile

logger = logging.getLogger(__name__)


def list_hits(
    session: Session,
    *,
    principal: Principal,
    hit_id: int | None = None,
    rule: str | None = None,
    status: HitStatus | None = None,
    hall_code: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> HitPage:
    """Newest period first, then by rule."""
    may_supervise(principal)
    where = [
        principal.jurisdiction.clause(hall_id=AnomalyHit.hall_id, department_id=AnomalyHit.department_id)
    ]
    if hit_id is not None:
        where.append(AnomalyHit.id == hit_id)
    if rule:
        where.append(AnomalyHit.rule == rule)
    if status:
        where.append(AnomalyHit.status == status.value)
    if hall_code:
        where.append(AnomalyHit.hall_id.in_(select(Hall.id).where(Hall.code == hall_code)))
    total = session.scalar(select(func.count()).select_from(AnomalyHit).where(*where)) or 0
    window = aliased(ServiceWindow)
    query = (
        select(AnomalyHit, Hall.code, Hall.name, Department.code, Department.name, Item.code, Item.name)
        .add_columns(window.code, Case.case_no)
        .join(Hall, Hall.id == AnomalyHit.hall_id)
        .outerjoin(Department, Department.id == AnomalyHit.department_id)
        .outerjoin(Item, Item.id == AnomalyHit.item_id)
        .outerjoin(window, window.id == AnomalyHit.window_id)
        .outerjoin(Case, Case.id == AnomalyHit.case_id)
        .where(*where)
        .order_by(AnomalyHit.day_to.desc(), AnomalyHit.rule, AnomalyHit.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    items = [
        HitPublic(
            id=hit.id,
            rule=hit.rule,
            rule_label=LABELS.get(hit.rule, hit.rule),
            summary=hit.summary,
            hall_code=hall_code_,
            hall_name=hall_name,
            department_code=dept_code,
            department_name=dept_name,
            item_code=item_code,
            item_name=item_name,
            window_code=window_code,
            case_no=case_no,
            day_from=hit.day_from,
            day_to=hit.day_to,
            evidence=hit.evidence,
            status=HitStatus(hit.status),
            signal_id=hit.signal_id,
            decided_at=hit.decided_at,
            decided_by=hit.decided_by,
            decision_note=hit.decision_note,
            first_found_at=hit.first_found_at,
            last_found_at=hit.last_found_at,
        )
        for hit, hall_code_, hall_name, dept_code, dept_name, item_code, item_name, window_code, case_no in session.execute(
            query
        )
    ]
    return HitPage(total=total, page=page, page_size=page_size, items=items)


def visible_hit_public(session: Session, *, hit_id: int, principal: Principal) -> HitPublic:
    found = list_hits(session, principal=principal, hit_id=hit_id).items
    if not found:
        raise AnomalyError(
            404, f"no anomaly hit #{hit_id}", f"没有编号为 #{hit_id} 的异常线索，或不在您的辖区内。"
        )
    return found[0]


def open_by_hall(session: Session, *, principal: Principal) -> list[HallCount]:
    """Open hits per hall and rule in my jurisdiction (halls with none left out)."""
    may_supervise(principal)
    query = (
        select(Hall.code, Hall.name, AnomalyHit.rule, func.count())
        .join(Hall, Hall.id == AnomalyHit.hall_id)
        .where(
            AnomalyHit.status == HitStatus.OPEN.value,
            principal.jurisdiction.clause(hall_id=AnomalyHit.hall_id, department_id=AnomalyHit.department_id),
        )
        .group_by(Hall.code, Hall.name, AnomalyHit.rule)
        .order_by(Hall.code)
    )
    halls: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for code, name, rule, count in session.execute(query):
        halls[(code, name)][rule] = int(count)
    return [
        HallCount(hall_code=code, hall_name=name, by_rule=counts, total=sum(counts.values()))
        for (code, name), counts in halls.items()
    ]


def rules_explained(session: Session, *, principal: Principal, default_profile: str) -> list[ProfileRules]:
    """The rules of every profile my jurisdiction's halls run under, explained with their figures."""
    keys = hall_profile_keys(session, default_key=default_profile)
    within = principal.jurisdiction
    used = sorted(
        {key for hall_id, key in keys.items() if within.includes_hall(hall_id)} or {default_profile}
    )
    found = []
    for key in used:
        profile = get_profile(key)
        texts = explanations(profile.anomalies, working_hours=list(profile.presence.working_hours))
        switched = enabled(profile.anomalies)
        found.append(
            ProfileRules(
                profile_key=key,
                profile_name=profile.name,
                rules=[
                    RuleExplained(
                        code=code, label=LABELS[code], enabled=switched[code], explanation=texts[code]
                    )
                    for code in RULE_CODES
                ],
            )
        )
    return found


def latest_run(session: Session) -> RunPublic | None:
    run = session.scalars(
        select(AnomalyRun).order_by(AnomalyRun.started_at.desc(), AnomalyRun.id.desc()).limit(1)
    ).first()
    if run is None:
        return None
    return RunPublic(
        started_at=run.started_at,
        period_from=run.period_from,
        period_to=run.period_to,
        found=run.found,
        added=run.added,
        seconds=run.seconds,
    )

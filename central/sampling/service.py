"""Sampling writes: drawing a month's sample, and an auditor's recomputation of it (SC-6(4)).

A draw is refused for a month not yet over (its population is not final), outside the drawer's
jurisdiction, a second time for the same month and scope, and where no inspector could review it.
Reviewers are every active 电子监察员 whose jurisdiction holds the scope; the draw deals the cases
to them. The seed is 32 random bytes from the operating system, recorded with the draw: nobody can
choose it, and anyone holding the record can recompute the sample (`verify_draw`).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.access.models import User
from central.access.roles import Role
from central.access.service import jurisdiction_of_user
from central.audit.chain import record
from central.core.actor import Actor
from central.core.clock import shanghai_date
from central.profiles.assignment import hall_profile_keys, region_profile_keys
from central.registry.jurisdiction import (
    Jurisdiction,
    ScopeError,
    ScopeKind,
    jurisdiction_of,
    resolve_scope_code,
)
from central.sampling.draw import ALGORITHM, draw_sample, population_digest
from central.sampling.models import SampleCase, SampleDraw
from central.sampling.population import month_days, population
from central.sampling.schemas import SamplingError, VerifyPublic
from common.profiles.loader import get_profile
from common.profiles.supervision import SamplingRules

logger = logging.getLogger(__name__)

MAX_DIFFERENCES = 20


def scope_code_of(jurisdiction: Jurisdiction) -> str:
    """The stored form of a scope: `*` or `kind:code`, as `resolve_scope_code` reads it back."""
    return (
        "*" if jurisdiction.kind is ScopeKind.DEPLOYMENT else f"{jurisdiction.kind.value}:{jurisdiction.code}"
    )


def resolve_scope(session: Session, *, code: str | None, within: Jurisdiction) -> Jurisdiction:
    if not code:
        return within
    try:
        kind, scope_id = resolve_scope_code(session, code)
        scope = jurisdiction_of(session, kind=kind, scope_id=scope_id)
    except ScopeError as exc:
        raise SamplingError(422, f"scope: {exc}", f"抽样范围无效：{exc}") from exc
    if not within.contains(scope):
        raise SamplingError(403, f"{code} is outside your jurisdiction", f"抽样范围 {code} 不在您的辖区内。")
    return scope


def _profile_key(session: Session, scope: Jurisdiction, default_key: str) -> str:
    if scope.kind is ScopeKind.REGION:
        return region_profile_keys(session, default_key=default_key).get(scope.scope_id, default_key)
    if scope.kind is ScopeKind.DEPLOYMENT:
        return default_key
    hall_id = next(iter(scope.hall_ids))
    return hall_profile_keys(session, default_key=default_key).get(hall_id, default_key)


def reviewer_pool(session: Session, *, scope: Jurisdiction) -> dict[str, int]:
    """{username: user id} of the active inspectors whose jurisdiction holds the whole scope."""
    users = session.scalars(select(User).where(User.role == Role.INSPECTOR.value, User.active.is_(True)))
    pool: dict[str, int] = {}
    for user in users:
        try:
            if jurisdiction_of_user(session, user).contains(scope):
                pool[user.username] = user.id
        except ScopeError:  # a user whose scope was deleted holds nothing
            continue
    return pool


def create_draw(
    session: Session,
    *,
    month: str,
    scope_code: str | None,
    within: Jurisdiction,
    actor: Actor,
    drawn_by_id: int | None,
    now: datetime,
    default_profile: str,
    note: str | None = None,
    seed: bytes | None = None,
) -> SampleDraw:
    """Draw, store and audit a month's sample (not committed). `seed` is for tests only."""
    try:
        _first, last = month_days(month)
    except ValueError as exc:
        raise SamplingError(422, f"month {month!r} is not YYYY-MM", f"月份格式不正确：{month}。") from exc
    if last >= shanghai_date(now):
        raise SamplingError(
            409, f"{month} is not over yet: its closed cases are not final", f"{month} 尚未结束，不能抽样。"
        )
    scope = resolve_scope(session, code=scope_code, within=within)
    stored_scope = scope_code_of(scope)
    held = session.scalar(
        select(SampleDraw).where(SampleDraw.month == month, SampleDraw.scope_code == stored_scope)
    )
    if held is not None:
        raise SamplingError(
            409,
            f"{month} in {stored_scope} was already drawn (draw #{held.id})",
            f"{month} 在该范围内已经抽样（抽样 #{held.id}），同一月份、同一范围只能抽样一次。",
        )
    pool = reviewer_pool(session, scope=scope)
    if not pool:
        raise SamplingError(
            409,
            "no active inspector holds this scope to review the sample",
            "没有辖区覆盖该范围的电子监察员可以复核。",
        )
    profile_key = _profile_key(session, scope, default_profile)
    rules = get_profile(profile_key).sampling
    members = population(session, month=month, within=scope, as_of=now)
    seed = seed or secrets.token_bytes(32)
    drawn = draw_sample([m.candidate for m in members], seed=seed, rules=rules, reviewers=sorted(pool))
    draw = SampleDraw(
        month=month,
        scope_kind=scope.kind.value,
        scope_code=stored_scope,
        drawn_at=now,
        drawn_by=actor.label,
        drawn_by_id=drawn_by_id,
        seed=seed.hex(),
        algorithm=ALGORITHM,
        profile_key=profile_key,
        rules=rules.model_dump(mode="json"),
        population=len(members),
        population_digest=population_digest(m.candidate for m in members),
        reviewers=sorted(pool),
        sample_size=len(drawn),
        note=note,
    )
    session.add(draw)
    by_case_no = {m.candidate.case_no: m for m in members}
    try:
        session.flush()
        for position, chosen in enumerate(drawn, start=1):
            member = by_case_no[chosen.candidate.case_no]
            session.add(
                SampleCase(
                    draw_id=draw.id,
                    position=position,
                    case_id=member.case_id,
                    case_no=chosen.candidate.case_no,
                    hall_id=member.hall_id,
                    department_id=member.department_id,
                    item_id=member.item_id,
                    kinds=",".join(sorted(chosen.candidate.kinds)),
                    stratum=chosen.stratum,
                    reviewer_id=pool[chosen.reviewer],
                )
            )
        session.flush()
    except IntegrityError as exc:  # another inspector drew the same month and scope just now
        session.rollback()
        raise SamplingError(
            409, f"{month} in {stored_scope} was drawn just now", "该月份、该范围刚刚已被抽样。"
        ) from exc
    record(
        session,
        actor=actor,
        action="sampling.draw",
        target_type="sample_draw",
        target_id=str(draw.id),
        after={
            "month": month,
            "scope": stored_scope,
            "seed": draw.seed,
            "algorithm": ALGORITHM,
            "profile": profile_key,
            "population": draw.population,
            "population_digest": draw.population_digest,
            "sample_size": draw.sample_size,
            "reviewers": draw.reviewers,
        },
        at=now,
    )
    logger.info(
        "sample #%d of %s in %s: %d of %d case(s), %d reviewer(s)",
        draw.id,
        month,
        stored_scope,
        len(drawn),
        len(members),
        len(pool),
    )
    return draw


def draw_scope(session: Session, draw: SampleDraw) -> Jurisdiction:
    """The scope a draw was made in, read back from its stored code."""
    if draw.scope_code == "*":
        return jurisdiction_of(session, kind=ScopeKind.DEPLOYMENT, scope_id=0)
    kind, scope_id = resolve_scope_code(session, draw.scope_code)
    return jurisdiction_of(session, kind=kind, scope_id=scope_id)


def verify_draw(session: Session, *, draw: SampleDraw) -> VerifyPublic:
    """Recompute the population as of `drawn_at` and the sample from the recorded seed, rates and
    reviewers; compare both with what was stored."""
    members = population(session, month=draw.month, within=draw_scope(session, draw), as_of=draw.drawn_at)
    digest = population_digest(m.candidate for m in members)
    rules = SamplingRules.model_validate(draw.rules)
    again = draw_sample(
        [m.candidate for m in members], seed=bytes.fromhex(draw.seed), rules=rules, reviewers=draw.reviewers
    )
    names = {user_id: username for user_id, username in session.execute(select(User.id, User.username))}
    stored = [(c.case_no, names.get(c.reviewer_id, "?"), c.stratum) for c in draw.cases]
    recomputed = [(d.candidate.case_no, d.reviewer, d.stratum) for d in again]
    differences = [
        f"#{i}: recorded {a[0] if a else '—'} ({a[1] if a else ''}), recomputed {b[0] if b else '—'} ({b[1] if b else ''})"
        for i, (a, b) in enumerate(_pairs(stored, recomputed), start=1)
        if a != b
    ]
    if digest != draw.population_digest:
        differences.insert(0, f"population: recorded {draw.population} case(s), recomputed {len(members)}")
    return VerifyPublic(
        draw_id=draw.id,
        ok=not differences,
        population_recorded=draw.population,
        population_recomputed=len(members),
        population_matches=digest == draw.population_digest,
        sample_matches=stored == recomputed,
        differences=differences[:MAX_DIFFERENCES],
    )


def _pairs(
    a: list[tuple[str, str, str]], b: list[tuple[str, str, str]]
) -> list[tuple[tuple[str, str, str] | None, tuple[str, str, str] | None]]:
    length = max(len(a), len(b))
    return [(a[i] if i < len(a) else None, b[i] if i < len(b) else None) for i in range(length)]

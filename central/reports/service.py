"""Generating, storing and handing out monthly reports (电子监察月报).

A stored report (`MonthlyReport`, one per month and scope) keeps the figures and the PDF made from
them, so a download gives the report as it was generated, and its JSON is the PDF's figures. It is
*final* once generated after the month ended and, if the month has been closed (`ScoreMonth`), after
the close; until then (the month still running, or the scores not yet closed) the page and the API
compute the figures afresh and a PDF download generates and stores a new one.

Every generation is audited (`report.monthly.generate`), every download too (`report.monthly.download`).

When a month closes, `generate_closed_month_reports` writes the reports the leadership receives: the
deployment's and every province's and city's (levels configurable), from one gathering of the month's
facts. County and hall reports are generated on their first download (the same path), which keeps
the closing pass to a few dozen PDFs for a province of 183 counties.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Collection
from datetime import datetime
from typing import cast, get_args

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.audit.chain import record
from central.calendar.service import load_calendar
from central.core.actor import Actor, ActorKind
from central.core.clock import shanghai_date, system_clock
from central.core.config import load_settings
from central.registry.jurisdiction import Jurisdiction, ScopeKind, jurisdiction_of
from central.registry.models import Hall, Region
from central.reports.charts import ChartFontMissing
from central.reports.figures import assemble, gather, report_data
from central.reports.models import MonthlyReport
from central.reports.pdf import PdfUnavailable, report_pdf
from central.reports.period import Month, ReportInputError, parse_month, report_scope, scope_name
from central.reports.schemas import MonthlyReportData
from central.scores.models import ScoreMonth

logger = logging.getLogger(__name__)

GENERATE_ACTION = "report.monthly.generate"
DOWNLOAD_ACTION = "report.monthly.download"
TARGET_TYPE = "monthly_report"
REPORTS_ACTOR = Actor(kind="system", name="reports")
CLOSED_MONTH_LEVELS = ("province", "city")


def actor_of(label: str) -> Actor:
    """The actor an audit entry names from a label such as `user:alice` or `system:scores`."""
    kind, _, name = label.partition(":")
    if kind not in get_args(ActorKind) or not name:
        return Actor(kind="system", name=label or "reports")
    return Actor(kind=cast(ActorKind, kind), name=name)


def default_profile_key(given: str | None) -> str:
    return given or load_settings().rule_profile


def scope_of(session: Session, *, scope_kind: str, scope_code: str) -> Jurisdiction:
    """The jurisdiction a stored report's kind and code name."""
    if scope_kind == ScopeKind.DEPLOYMENT.value:
        return report_scope(session, "*")
    if scope_kind not in (ScopeKind.REGION.value, ScopeKind.HALL.value):
        raise ReportInputError(
            f"scope_kind must be deployment, region or hall, not {scope_kind!r}",
            "辖区类型应为 deployment、region 或 hall。",
        )
    return report_scope(session, f"{scope_kind}:{scope_code}")


def stored_report(session: Session, *, month: str, scope: Jurisdiction) -> MonthlyReport | None:
    return session.scalar(
        select(MonthlyReport).where(
            MonthlyReport.month == month,
            MonthlyReport.scope_kind == scope.kind.value,
            MonthlyReport.scope_code == scope.code,
        )
    )


def is_final(session: Session, report: MonthlyReport, month: Month) -> bool:
    """Generated after the month ended and after its close, if it has closed."""
    if shanghai_date(report.generated_at) <= month.last:
        return False
    closed_at = session.scalar(select(ScoreMonth.closed_at).where(ScoreMonth.month == month.text))
    return closed_at is None or report.generated_at >= closed_at


def store_report(
    session: Session, *, data: MonthlyReportData, scope: Jurisdiction, now: datetime, actor: Actor
) -> MonthlyReport:
    """Make the PDF of `data`, store both (replacing the month's and scope's earlier report), audit.
    Not committed."""
    pdf = report_pdf(data, generated_at=now, generated_by=actor.label)
    digest = hashlib.sha256(pdf).hexdigest()
    values = {
        "generated_at": now,
        "generated_by": actor.label,
        "data": data.model_dump(mode="json"),
        "pdf": pdf,
        "pdf_sha256": digest,
    }
    row = stored_report(session, month=data.month, scope=scope)
    if row is None:
        row = MonthlyReport(month=data.month, scope_kind=scope.kind.value, scope_code=scope.code, **values)
        try:
            with session.begin_nested():  # another instance may store the same report at once
                session.add(row)
                session.flush()
        except IntegrityError:
            row = stored_report(session, month=data.month, scope=scope)
            assert row is not None
    for name, value in values.items():
        setattr(row, name, value)
    session.flush()
    record(
        session,
        actor=actor,
        action=GENERATE_ACTION,
        target_type=TARGET_TYPE,
        target_id=str(row.id),
        after={
            "month": data.month,
            "scope_kind": scope.kind.value,
            "scope_code": scope.code,
            "pdf_sha256": digest,
            "complete": data.complete,
        },
        at=now,
    )
    logger.info("monthly report %s of %s generated by %s", data.month, scope.code, actor.label)
    return row


def generate_monthly_report(
    session: Session,
    *,
    month: str,
    scope_kind: str,
    scope_code: str,
    now: datetime,
    actor_label: str,
    default_profile: str | None = None,
) -> MonthlyReport:
    """Compute the month's report for the scope as the data stand at `now`, make its PDF, store it
    (upsert) and audit it. Not committed. Bad input: `ReportInputError`."""
    scope = scope_of(session, scope_kind=scope_kind, scope_code=scope_code)
    data = report_data(
        session,
        month=month,
        scope=scope,
        now=now,
        calendar=load_calendar(session),
        default_profile=default_profile_key(default_profile),
    )
    return store_report(session, data=data, scope=scope, now=now, actor=actor_of(actor_label))


def report_for_reading(
    session: Session, *, month: Month, scope: Jurisdiction, now: datetime, default_profile: str
) -> tuple[MonthlyReportData, MonthlyReport | None]:
    """What the page and the JSON show: the final stored report's figures, or figures computed now
    (with the stored report, if any, for its date)."""
    row = stored_report(session, month=month.text, scope=scope)
    if row is not None and is_final(session, row, month):
        try:
            return MonthlyReportData.model_validate(row.data), row
        except ValueError:  # stored by an older shape of the report: computed afresh below
            logger.warning("stored monthly report #%d no longer validates; computing afresh", row.id)
    data = report_data(
        session,
        month=month,
        scope=scope,
        now=now,
        calendar=load_calendar(session),
        default_profile=default_profile,
    )
    return data, row


def report_for_download(
    session: Session, *, month: Month, scope: Jurisdiction, now: datetime, actor: Actor, default_profile: str
) -> MonthlyReport:
    """The final stored report, or one generated and stored now. Not committed."""
    row = stored_report(session, month=month.text, scope=scope)
    if row is not None and is_final(session, row, month):
        return row
    data = report_data(
        session,
        month=month,
        scope=scope,
        now=now,
        calendar=load_calendar(session),
        default_profile=default_profile,
    )
    return store_report(session, data=data, scope=scope, now=now, actor=actor)


def record_download(
    session: Session,
    *,
    month: str,
    scope: Jurisdiction,
    fmt: str,
    actor: Actor,
    now: datetime,
    report_id: int | None,
    sha256: str | None,
) -> None:
    """Audit one download (PDF or JSON). Not committed."""
    record(
        session,
        actor=actor,
        action=DOWNLOAD_ACTION,
        target_type=TARGET_TYPE,
        target_id=str(report_id) if report_id is not None else f"{month}/{scope.kind.value}/{scope.code}",
        after={
            "month": month,
            "scope_kind": scope.kind.value,
            "scope_code": scope.code,
            "format": fmt,
            "sha256": sha256,
        },
        at=now,
    )


def _region_scopes(session: Session, levels: Collection[str]) -> list[Jurisdiction]:
    """The regions of `levels` that have a hall somewhere below them."""
    parents = {rid: parent for rid, parent in session.execute(select(Region.id, Region.parent_id))}
    with_halls: set[int] = set()
    for region_id in session.scalars(select(Hall.region_id).distinct()):
        current: int | None = region_id
        while current is not None and current not in with_halls:
            with_halls.add(current)
            current = parents.get(current)
    rows = session.execute(
        select(Region.id, Region.level).where(Region.level.in_(sorted(levels))).order_by(Region.code)
    )
    return [
        jurisdiction_of(session, kind=ScopeKind.REGION, scope_id=region_id)
        for region_id, _level in rows
        if region_id in with_halls
    ]


def generate_closed_month_reports(
    session: Session,
    *,
    month: str,
    now: datetime,
    default_profile: str | None = None,
    levels: Collection[str] = CLOSED_MONTH_LEVELS,
) -> int:
    """The reports of a month that has just closed: the deployment's and every region's of `levels`
    (province and city by default) that has halls, each stored and audited as generated by the system.
    The month's facts are gathered once for the deployment and sliced per region. It commits after
    each report (the audit chain's head is locked from a report's entry to its commit, so a long
    pass must not hold it): call it once the close itself is committed. Returns how many were written."""
    wanted = parse_month(month, today=shanghai_date(now))
    deployment = report_scope(session, "*")
    facts = gather(
        session,
        month=wanted,
        within=deployment,
        now=now,
        calendar=load_calendar(session),
        default_profile=default_profile_key(default_profile),
    )
    written = 0
    for scope in [deployment, *_region_scopes(session, levels)]:
        name, level = scope_name(session, scope)
        data = assemble(facts, scope=scope, scope_name=name, scope_level=level, computed_at=now)
        store_report(session, data=data, scope=scope, now=now, actor=REPORTS_ACTOR)
        session.commit()
        written += 1
    logger.info("monthly reports of closed month %s: %d written", wanted.text, written)
    return written


def closed_month_hook(*, default_profile: str) -> Callable[[Session, str], None]:
    """The scores pass's `on_month_closed` (wired by the app and `hallwatch scores run`: reports sit beside
    scores, not below): the month's reports as of the moment it was closed (its `ScoreMonth`), so they
    are final at once. A server that cannot make PDFs says so in the log and leaves the scores pass
    alone; the reports are then made on their first download."""

    def on_month_closed(session: Session, month: str) -> None:
        closed_at = session.scalar(select(ScoreMonth.closed_at).where(ScoreMonth.month == month))
        try:
            generate_closed_month_reports(
                session, month=month, now=closed_at or system_clock(), default_profile=default_profile
            )
        except (PdfUnavailable, ChartFontMissing) as exc:
            session.rollback()
            logger.error("monthly reports of %s not generated: %s", month, exc)

    return on_month_closed


__all__ = [
    "DOWNLOAD_ACTION",
    "GENERATE_ACTION",
    "closed_month_hook",
    "generate_closed_month_reports",
    "generate_monthly_report",
    "record_download",
    "report_for_download",
    "report_for_reading",
]

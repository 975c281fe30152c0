"""Demo supervision modes (issue 18): the live hall's counter days judged for dual-track
(`central.demo.counter_days`), a few complaints (one left undecided past its last day, whose yellow
the signal pass of `central.demo.supervision` raises), last month's sample drawn with some reviews
done (one 不合规, with its signal), and data supervision's rules run over the seeded case log — all
through the services inspectors and citizens use, so the pages have something to show on first start.

Seeded after the history and before the signal pass (`seed_supervision`): that pass then raises the
overdue complaint's signal and finds every dual-track day already judged.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.anomalies.jobs import ANOMALIES_ACTOR, default_period
from central.anomalies.run import run_anomalies
from central.calendar.service import load_calendar
from central.cases.models import Case
from central.complaints.labels import Channel, ComplaintAbout
from central.complaints.models import Complaint
from central.complaints.queries import overdue_clause
from central.complaints.schemas import ComplaintIn, DecisionIn
from central.complaints.service import decide_complaint, receive_complaint
from central.core.actor import Actor
from central.core.clock import SHANGHAI, shanghai_date, to_utc
from central.demo.counter_days import COUNTER_DAYS, CounterSummary, seed_counter_days
from central.demo.history_ratings import working_days
from central.demo.supervision import demo_principal
from central.registry.models import Department, Hall, ServiceWindow, Staff
from central.sampling.models import SampleCase
from central.sampling.review import review_case
from central.sampling.schemas import Finding, ReviewIn
from central.sampling.service import create_draw
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

COMPLAINANT = Actor(kind="anonymous", name="complainant")  # as the public form records a receipt
SAMPLE_SCOPE = "region:510000"  # the province's inspectors sample the whole province
REVIEWED = 3  # of the inspector's sampled cases: two 合规, then one 不合规
# The rule a 不合规 review cites, by the kind of case it found (SZ-9's kinds first).
CITED = [
    ("refusal", "refusal_without_reasons", "不予受理/不予许可决定书未载明具体理由和法律依据"),
    ("correction", "corrections_not_told_at_once", "补正材料分两次告知，未一次性告知全部内容"),
    ("", "other_minor", "办件归档材料缺少受理回执"),
]


@dataclass(frozen=True)
class ModesSummary:
    counter: CounterSummary
    complaints: int
    overdue_complaints: int
    sample_month: str
    sample_size: int
    reviewed: int
    noncompliant: int
    hits: dict[str, int] = field(default_factory=dict)  # anomaly hits by rule

    def line(self) -> str:
        rules = "、".join(f"{code} {n}" for code, n in self.hits.items() if n)
        return (
            f"抽样监察：{self.sample_month} 抽取 {self.sample_size} 件，已复核 {self.reviewed} 件（不合规 "
            f"{self.noncompliant} 件）；数据监察线索 {sum(self.hits.values())} 条（{rules or '无'}）；"
            f"双轨研判 {self.counter.window_days} 个窗口·日，疑似体外循环 {self.counter.flagged} 个；"
            f"群众投诉 {self.complaints} 件（逾期未受理 {self.overdue_complaints} 件）"
        )


def seed_supervision_modes(
    session: Session,
    *,
    now: datetime,
    default_profile: str,
    anomaly_days: int,
    live_hall: str,
    live_windows: int,
    inspector: str,
    seed: int = 20261201,
) -> ModesSummary:
    """Seed them (after the cases, the accounts and the history) and commit."""
    rng = random.Random(seed)
    calendar = load_calendar(session)
    today = shanghai_date(now)
    days = working_days(calendar, today=today, days=30)
    counter = seed_counter_days(
        session,
        rng,
        hall_code=live_hall,
        windows=live_windows,
        days=days[-COUNTER_DAYS:],
        calendar=calendar,
        default_profile=default_profile,
        now=now,
    )
    principal = demo_principal(session, inspector)
    complaints = seed_complaints(
        session,
        days=days,
        hall_code=live_hall,
        inspector=principal,
        calendar=calendar,
        default_profile=default_profile,
    )
    month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    draw = create_draw(
        session,
        month=month,
        scope_code=SAMPLE_SCOPE,
        within=principal.jurisdiction,
        actor=principal.actor,
        drawn_by_id=principal.user_id,
        now=now,  # the population is the events recorded by then: all the seeded ones
        default_profile=default_profile,
        note="演示：上月办结办件抽样复核",
    )
    reviewed = review_some(
        session,
        draw_id=draw.id,
        inspector=principal,
        now=now,
        calendar=calendar,
        default_profile=default_profile,
    )
    session.commit()
    period_from, period_to = default_period(now, anomaly_days)
    report = run_anomalies(  # commits
        session,
        period_from=period_from,
        period_to=period_to,
        now=now,
        calendar=calendar,
        default_profile_key=default_profile,
        instance="demo",
        actor=ANOMALIES_ACTOR,
    )
    overdue = len(session.scalars(select(Complaint.id).where(overdue_clause(today))).all())
    summary = ModesSummary(
        counter=counter,
        complaints=complaints,
        overdue_complaints=overdue,
        sample_month=month,
        sample_size=draw.sample_size,
        reviewed=sum(reviewed.values()),
        noncompliant=reviewed.get(Finding.NONCOMPLIANT.value, 0),
        hits=dict(report.by_rule),
    )
    logger.info("demo supervision modes: %s", summary.line())
    return summary


def _at(day: date, hour: int, minute: int) -> datetime:
    return to_utc(datetime.combine(day, time(hour, minute), SHANGHAI))


def seed_complaints(
    session: Session,
    *,
    days: list[date],
    hall_code: str,
    inspector: Principal,
    calendar: WorkCalendar,
    default_profile: str,
) -> int:
    """Four complaints about the live hall through the public form's service: one about a clerk left
    undecided past its 5 working days (SZ-14), one still in time (about the window the cameras
    suspect), one refused with reasons, one about a late case accepted. Returns how many."""
    hall = session.scalars(select(Hall).where(Hall.code == hall_code)).one()
    windows = session.scalars(
        select(ServiceWindow).where(ServiceWindow.hall_id == hall.id).order_by(ServiceWindow.code)
    ).all()
    clerk = session.scalars(
        select(Staff.code).where(Staff.window_id == windows[0].id).order_by(Staff.code)
    ).first()
    police = session.scalars(select(Department.code).where(Department.id == windows[2].department_id)).one()
    overdue_day, pending_day, refused_day, accepted_day = days[-9], days[-1], days[-7], days[-4]
    late = session.scalars(  # a case of the hall finished after its promised day, before the complaint
        select(Case.case_no)
        .where(
            Case.hall_id == hall.id,
            Case.status == "completed",
            Case.closed_on > Case.promised_due_date,
            Case.closed_on < accepted_day,
        )
        .order_by(Case.id)
    ).first()
    filed: list[tuple[datetime, dict[str, object], Channel]] = [
        (
            _at(overdue_day, 16, 40),
            {
                "about": ComplaintAbout.STAFF,
                "staff": clerk,
                "name": "李红梅",
                "phone": "13700001234",
                "content": f"{overdue_day.month}月{overdue_day.day}日上午在{windows[0].name}办理个体工商户登记，"
                "工作人员中途离开窗口二十多分钟，排队群众一直等候，回来后也没有任何解释。",
            },
            Channel.ONLINE,
        ),
        (
            _at(pending_day, 15, 20),
            {
                "about": ComplaintAbout.WINDOW,
                "window": windows[1].code,
                "anonymous": True,
                "content": f"{windows[1].name}办完业务没有出具受理回执，询问时工作人员说系统里查不到，"
                "担心办件根本没有登记。",
            },
            Channel.KIOSK,
        ),
        (
            _at(refused_day, 11, 5),
            {
                "about": ComplaintAbout.DEPARTMENT,
                "department": police,
                "anonymous": True,
                "content": "户口迁移政策规定太严格，希望放宽条件，不要让群众来回跑。",
            },
            Channel.ONLINE,
        ),
    ]
    if late is not None:
        filed.append(
            (
                _at(accepted_day, 9, 50),
                {
                    "about": ComplaintAbout.CASE,
                    "case_no": late,
                    "name": "赵建国",
                    "phone": "13600005678",
                    "content": f"办件 {late} 超过承诺时限才办结，期间没有人告知延误原因，多次打电话也无人答复。",
                },
                Channel.ONLINE,
            )
        )
    received: list[Complaint] = []
    for moment, fields, channel in filed:
        # the form's question is the public page's guard (central.complaints.guard), not the service's
        body = ComplaintIn.model_validate({"hall": hall_code, "challenge": "demo", "answer": "0", **fields})
        receipt = receive_complaint(
            session,
            body=body,
            attachments=[],
            channel=channel,
            actor=COMPLAINANT,
            now=moment,
            calendar=calendar,
            default_profile=default_profile,
        )
        received.append(receipt.complaint)
    refusal = "所反映的是户籍政策本身的意见，不属于窗口服务和审批行为，请通过 12345 热线向政策制定部门反映。"
    decisions = [(received[2], refused_day, DecisionIn(accept=False, reasons=refusal))]
    if late is not None:
        decisions.append(
            (received[3], accepted_day, DecisionIn(accept=True, reasons="转办理部门核实延误原因"))
        )
    for complaint, day, decision in decisions:
        decided = _at(calendar.add_workdays(day, 1), 10, 15)  # the next working morning
        decide_complaint(session, complaint_id=complaint.id, body=decision, principal=inspector, now=decided)
    session.flush()
    return len(received)


def review_some(
    session: Session,
    *,
    draw_id: int,
    inspector: Principal,
    now: datetime,
    calendar: WorkCalendar,
    default_profile: str,
) -> dict[str, int]:
    """The inspector reviews the first of the cases the draw dealt them: 合规 twice, then 不合规 on a
    case whose kind fits a rule (a refusal without reasons, corrections told in parts); the rest
    wait for the demo's inspectors. Returns the findings' counts."""
    mine = session.scalars(
        select(SampleCase)
        .where(SampleCase.draw_id == draw_id, SampleCase.reviewer_id == inspector.user_id)
        .order_by(SampleCase.position)
    ).all()
    if not mine:
        return {}
    kinds = {case.id: set(case.kinds.split(",")) if case.kinds else set() for case in mine}
    flagged, code, note = next(
        (
            (case, code, note)
            for kind, code, note in CITED
            for case in mine
            if not kind or kind in kinds[case.id]
        )
    )
    plan = [
        (case, ReviewIn(finding=Finding.COMPLIANT, note="材料齐全，受理、审查和办结均在时限内，程序合规"))
        for case in mine
        if case.id != flagged.id
    ][: REVIEWED - 1]
    plan.append((flagged, ReviewIn(finding=Finding.NONCOMPLIANT, reason_code=code, note=note)))
    counts: dict[str, int] = {}
    for case, body in plan:
        review_case(
            session,
            sample_case_id=case.id,
            body=body,
            principal=inspector,
            now=now,
            calendar=calendar,
            default_profile=default_profile,
        )
        counts[body.finding.value] = counts.get(body.finding.value, 0) + 1
    return counts

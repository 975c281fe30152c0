"""The demo's video patrol (issue 15 item 6): today's plan published at start-up, and the steps an
inspector follows to patrol the demo hall — the task of today's plan on a working day, an unplanned
patrol from the live page on a day off (the calendar decides: weekends and holidays have no plan).

The steps are printed by `hallwatch demo` and followed by the demo's browser test, so what the demo
tells people to click is what the test clicks."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.access.models import User
from central.core.clock import shanghai_date
from central.core.config import Settings
from central.patrols.models import PatrolTask
from central.patrols.service import PlanRefused, plan_by_settings
from central.profiles.assignment import profile_for_hall
from central.registry.models import Hall

logger = logging.getLogger(__name__)

# The pages' own wording (central/patrols/templates/patrols.html, central/live/templates/live_hall.html).
START_TASK = "开始巡查"
START_UNPLANNED = "开始计划外巡查（记录发现、计入台帐）"
MY_TASKS = "我的巡查任务"


@dataclass(frozen=True)
class TodaysPlan:
    """Today's plan as start-up published it: its id and size, or why there is none."""

    day: date
    plan_id: int | None = None
    tasks: int = 0
    drawn: dict[str, list[str]] = field(default_factory=dict)
    refused: str | None = None  # why no plan could be given (a day off is not a refusal)

    def summary(self) -> str:
        if self.refused is not None:
            return f"今日无巡查计划 no patrol plan today: {self.refused}"
        if self.plan_id is None:
            return f"{self.day} 非工作日，无巡查计划 a day off: no patrol plan"
        drawn = ", ".join(f"{pool}: {len(regions)}" for pool, regions in self.drawn.items())
        return f"今日视频巡查计划 today's patrol plan: {self.tasks} 次（抽选 drawn {drawn}）"


def publish_todays_patrols(session: Session, *, settings: Settings, now: datetime) -> TodaysPlan:
    """Today's plan, drawn now (as the first inspector's visit would), or why there is none."""
    today = shanghai_date(now)
    try:
        plan = plan_by_settings(session, settings=settings, now=now)
    except PlanRefused as exc:
        return TodaysPlan(today, refused=str(exc))
    if plan is None:
        return TodaysPlan(today)
    tasks = session.scalar(select(func.count()).select_from(PatrolTask).where(PatrolTask.plan_id == plan.id))
    return TodaysPlan(today, plan_id=plan.id, tasks=int(tasks or 0), drawn=dict(plan.drawn))


@dataclass(frozen=True)
class PatrolGuide:
    """Who patrols the demo hall today and how: `task_id` set, from the patrol plan page; else an
    unplanned patrol from the hall's live page (`no_task` says why)."""

    account: str
    password: str
    hall: str
    hall_name: str
    day: date
    task_id: int | None
    no_task: str | None
    min_viewing_seconds: int

    @property
    def start_path(self) -> str:
        return "/console/patrols" if self.task_id is not None else f"/console/live/{self.hall}"

    @property
    def start_button(self) -> str:
        return START_TASK if self.task_id is not None else START_UNPLANNED

    def lines(self, base_url: str) -> list[str]:
        """The steps, zh-CN with an English gloss, as the demo prints them."""
        base = base_url.rstrip("/")
        if self.task_id is not None:
            head = f"今日（{self.day}）巡查计划给 {self.account} 分配了{self.hall_name}的巡查任务 today's plan gives {self.account} a patrol of this hall"
            start = (
                f"  2. 巡查任务 patrol plan  {base}{self.start_path}\n"
                f"     在「{MY_TASKS}」中{self.hall_name}一行点「{START_TASK}」 click {START_TASK} on that row"
            )
        else:
            head = f"{self.no_task}\n  → 请从实时视频页做计划外巡查 do an unplanned patrol from the live page"
            start = (
                f"  2. 实时视频 live page  {base}{self.start_path}\n"
                f"     点「{START_UNPLANNED}」 click it to open an unplanned patrol"
            )
        return [
            f"视频巡查演示 video patrol walkthrough — {self.hall_name}（{self.hall}）",
            f"  {head}",
            f"  1. 登录 sign in  {base}/console/login  账号 account {self.account}，密码 password {self.password}",
            start,
            "  3. 巡查页 patrol page /console/patrols/sessions/…：各窗口实时画面播放，点击一路放大 the grid plays; click a tile to focus",
            "  4. 「记录问题」选窗口、类别、说明，点「记录」 record a finding: the hall's agent uploads its snapshot "
            "and the clip of the seconds before it (「本次巡查发现」: 截图 · 视频片段)",
            f"  5. 观看满 {self.min_viewing_seconds} 秒后点「结束巡查」 end after {self.min_viewing_seconds} s of viewing: "
            "central checks the proof of viewing (核验结果：已完成)",
        ]


def patrol_guide(
    session: Session,
    *,
    plan: TodaysPlan,
    hall_code: str,
    account: str,
    password: str,
    default_profile_key: str,
) -> PatrolGuide:
    """The demo hall's patrol today: `account`'s task of the hall (or, failing that, another
    inspector's), else an unplanned patrol by `account`."""
    hall = session.scalars(select(Hall).where(Hall.code == hall_code)).one()
    task: tuple[int, str] | None = None
    if plan.plan_id is not None:
        rows = session.execute(
            select(PatrolTask.id, User.username)
            .join(User, User.id == PatrolTask.inspector_id)
            .where(PatrolTask.plan_id == plan.plan_id, PatrolTask.hall_id == hall.id)
            .order_by(PatrolTask.seq)
        ).all()
        candidates = [(task_id, name) for task_id, name in rows if name == account] or [
            (task_id, name) for task_id, name in rows
        ]
        task = candidates[0] if candidates else None
    if plan.refused is not None:
        no_task = f"今日（{plan.day}）无巡查计划 no patrol plan today（{plan.refused}）"
    elif plan.plan_id is None:
        no_task = f"今日（{plan.day}）非工作日，无巡查计划 today is a day off: no patrol plan"
    else:  # a registry without the province's inspectors, or its centre: the demo still patrols
        no_task = f"今日计划没有{hall.name}的巡查任务 today's plan has no patrol of this hall"
        if task is None:
            logger.warning("today's patrol plan has no task of the demo hall %s", hall_code)
    rules = profile_for_hall(session, hall_id=hall.id, default_key=default_profile_key).patrols
    return PatrolGuide(
        account=task[1] if task else account,
        password=password,
        hall=hall.code,
        hall_name=hall.name,
        day=plan.day,
        task_id=task[0] if task else None,
        no_task=None if task else no_task,
        min_viewing_seconds=rules.min_viewing_seconds,
    )

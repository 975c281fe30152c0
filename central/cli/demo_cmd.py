"""`hallwatch demo`: a fresh SQLite demo database with a realistic dataset, then serve it."""

from __future__ import annotations

import threading
from pathlib import Path

import typer
import uvicorn
from rich.progress import Progress
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.access.service import create_user
from central.app import create_app
from central.cli.common import console, migrated_engine
from central.core.clock import shanghai_date, system_clock
from central.core.config import Settings
from central.core.db import make_session_factory
from central.core.warmup import warm_up
from central.demo.hall_sim import SimulatedHall, plan_hall, wait_until_up
from central.demo.seed import DEMO_ACTOR, seed_demo
from central.demo.supervision import seed_supervision
from central.patrols.key import generate_key_file
from central.patrols.models import PatrolTask
from central.patrols.service import PlanRefused, plan_by_settings

DEMO_DB = Path("var") / "demo.db"
DEMO_PASSWORD = "hallwatch-demo-2026"
DEMO_PATROL_KEY = Path("var") / "demo-patrol.key"  # the demo's own draw key (kept between runs)
DEMO_HALL = "510000-ZWFW"  # the hall whose windows get emulated keypads and an edge agent
# (username, role, scope): one of each kind of jurisdiction, to see what each may read.
DEMO_USERS = [
    ("admin", Role.SYSTEM_SUPERVISOR, "*"),
    ("sichuan", Role.INSPECTOR, "region:510000"),
    ("sichuan2", Role.INSPECTOR, "region:510000"),
    ("chengdu", Role.INSPECTOR, "region:510100"),
    ("jinjiang", Role.INSPECTOR, "region:510104"),
    ("clerk", Role.POST_USER, "department:510104-SCJG"),
]


def demo(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    cases: int = typer.Option(2000, min=1, max=200_000, help="How many demo cases to generate."),
    serve: bool = typer.Option(True, help="Serve after seeding (--no-serve only seeds)."),
) -> None:
    """Seed var/demo.db afresh (relative to today) and serve it."""
    for path in DEMO_DB.parent.glob(f"{DEMO_DB.name}*"):  # the file and its WAL/SHM companions
        path.unlink()
    if not DEMO_PATROL_KEY.exists():
        generate_key_file(DEMO_PATROL_KEY)
    settings = Settings(  # the demo shows /docs
        database_url=f"sqlite:///{DEMO_DB}", api_docs=True, patrol_key_file=DEMO_PATROL_KEY
    )
    engine = migrated_engine(settings)
    with make_session_factory(engine)() as session, Progress(console=console) as progress:
        summary = seed_demo(
            session,
            now=system_clock(),
            default_profile_key=settings.rule_profile,
            cases=cases,
            progress=progress,
        )
        for username, role, scope in DEMO_USERS:
            create_user(
                session,
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                scope_code=scope,
                display_name=None,
                granted_by=None,
                now=system_clock(),
                actor=DEMO_ACTOR,
            )
        session.commit()
        supervision = seed_supervision(
            session,
            now=system_clock(),
            default_profile=settings.rule_profile,
            inspector="sichuan",
            county_inspector="jinjiang",
            clerk="clerk",
        )
        hall_plan = plan_hall(session, hall_code=DEMO_HALL, windows=4, now=system_clock())
        patrols = _publish_todays_patrols(session, settings)
    console.print(
        f"演示数据已生成: {summary.halls} 个政务服务中心, {summary.items} 个事项, "
        f"{summary.cases} 件办件 ({summary.events} 条事件) → {DEMO_DB}"
    )
    console.print(
        f"监察信号 {supervision.signals} 条，调查 {supervision.investigations} 件，待审批申请 {supervision.approvals} 件"
    )
    console.print(patrols)
    users = "、".join(name for name, _, _ in DEMO_USERS)
    console.print(f"演示账号 users: {users}，密码 password: {DEMO_PASSWORD}")
    if not serve:
        return
    base = f"http://{host}:{port}"
    console.print(
        f"打开 open:\n  办件列表  {base}/console/cases\n  红灯办件  {base}/console/cases?light=red\n"
        f"  预警纠错  {base}/console/signals?view=all\n  监察台帐  {base}/console/ledger\n"
        f"  审批（以 sichuan 登录）  {base}/console/approvals\n  满意度评价  {base}/console/ratings\n"
        f"  巡查任务  {base}/console/patrols\n  实时视频  {base}/console/live/{DEMO_HALL}\n"
        f"  API 文档  {base}/docs\n按 Ctrl+C 停止"
    )
    hall = SimulatedHall(hall_plan, base_url=base, username="admin", password=DEMO_PASSWORD)
    threading.Thread(target=_start_hall, args=(hall, base), daemon=True).start()
    try:
        app = create_app(settings, engine=engine)
        warm_up(app)
        uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)
    finally:
        hall.stop()


def _publish_todays_patrols(session: Session, settings: Settings) -> str:
    """Today's patrol plan, drawn now (as the first inspector's visit would), or why there is none."""
    today = shanghai_date(system_clock())
    try:
        plan = plan_by_settings(session, settings=settings, now=system_clock())
    except PlanRefused as exc:
        return f"今日无巡查计划 no patrol plan today: {exc}"
    if plan is None:
        return f"{today} 非工作日，无巡查任务"
    tasks = session.scalar(select(func.count()).select_from(PatrolTask).where(PatrolTask.plan_id == plan.id))
    return f"今日视频巡查计划 {tasks} 次（抽选 {', '.join(f'{k}: {len(v)}' for k, v in plan.drawn.items())}）"


def _start_hall(hall: SimulatedHall, base: str) -> None:
    """Once central answers, the demo hall's keypads, edge agent and citizens start."""
    if wait_until_up(base):
        hall.start()
        console.print(
            f"模拟大厅 {hall.plan.hall}：{len(hall.plan.windows)} 个评价器（{hall.workdir}），群众每隔数秒办件并评价"
        )

"""`hallwatch demo`: a fresh SQLite demo database with a realistic dataset, then serve it."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path

import typer
import uvicorn
from rich.progress import Progress

from central.app import create_app
from central.cli.common import console, migrated_engine
from central.core.clock import system_clock
from central.core.config import Settings
from central.core.db import make_session_factory
from central.core.warmup import warm_up
from central.demo.accounts import DEMO_HALL, DEMO_PASSWORD, DEMO_PATROLLER, DEMO_USERS, create_demo_users
from central.demo.displays import DEMO_DISPLAY_PORTS
from central.demo.hall_sim import SimulatedHall, plan_hall, wait_until_up
from central.demo.history import seed_history
from central.demo.patrol_guide import patrol_guide, publish_todays_patrols
from central.demo.seed import seed_demo
from central.demo.supervision import seed_supervision
from central.demo.supervision_modes import seed_supervision_modes
from central.patrols.key import generate_key_file
from central.scores.daily import run_scores

logger = logging.getLogger(__name__)

DEMO_DB = Path("var") / "demo.db"
DEMO_WINDOWS = 4  # the live hall's windows with keypads under its camera
DEMO_PATROL_KEY = Path("var") / "demo-patrol.key"  # the demo's own draw key (kept between runs)


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
    settings = (
        Settings(  # the demo shows /docs; its hall is on loopback: no ICE servers, whatever the env says
            database_url=f"sqlite:///{DEMO_DB}",
            api_docs=True,
            patrol_key_file=DEMO_PATROL_KEY,
            live_ice_servers=[],
        )
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
        create_demo_users(session, now=system_clock())
        session.commit()
        started = time.monotonic()
        history = seed_history(
            session,
            now=system_clock(),
            default_profile=settings.rule_profile,
            live_hall=DEMO_HALL,
            live_windows=DEMO_WINDOWS,
            handler="admin",
            reviewer="sichuan",
        )
        logger.info("demo history seeded in %.1f s", time.monotonic() - started)
        started = time.monotonic()
        modes = seed_supervision_modes(  # before the signal pass, which raises the overdue complaint's
            session,
            now=system_clock(),
            default_profile=settings.rule_profile,
            anomaly_days=settings.anomaly_days,
            live_hall=DEMO_HALL,
            live_windows=DEMO_WINDOWS,
            inspector="sichuan",
        )
        logger.info("demo supervision modes seeded in %.1f s", time.monotonic() - started)
        supervision = seed_supervision(
            session,
            now=system_clock(),
            default_profile=settings.rule_profile,
            inspector="sichuan",
            county_inspector="jinjiang",
            clerk="clerk",
        )
        started = time.monotonic()
        scores = run_scores(
            session,
            now=system_clock(),
            default_profile_key=settings.rule_profile,
            instance="demo",
            delay=timedelta(minutes=settings.score_delay_minutes),
            close_working_day=settings.score_month_close_working_day,
        )
        logger.info("demo scores computed in %.1f s", time.monotonic() - started)
        hall_plan = plan_hall(
            session,
            hall_code=DEMO_HALL,
            windows=DEMO_WINDOWS,
            now=system_clock(),
            default_profile_key=settings.rule_profile,
        )
        patrols = publish_todays_patrols(session, settings=settings, now=system_clock())
        guide = patrol_guide(
            session,
            plan=patrols,
            hall_code=DEMO_HALL,
            account=DEMO_PATROLLER,
            password=DEMO_PASSWORD,
            default_profile_key=settings.rule_profile,
        )
    console.print(
        f"演示数据已生成: {summary.halls} 个政务服务中心, {summary.items} 个事项, "
        f"{summary.cases} 件办件 ({summary.events} 条事件) → {DEMO_DB}"
    )
    console.print(history.line())
    console.print(
        f"监察信号 {supervision.signals} 条，调查 {supervision.investigations} 件，待审批申请 {supervision.approvals} 件"
    )
    console.print(modes.line())
    console.print(patrols.summary())
    console.print(scores.summary())
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
        f"  绩效得分  {base}/console/scores\n  电子监察月报  {base}/console/reports/monthly\n"
        f"  抽样监察  {base}/console/sampling\n  数据监察  {base}/console/anomalies\n"
        f"  双轨研判（疑似体外循环）  {base}/console/dualtrack\n"
        f"  群众投诉  {base}/console/complaints\n  投诉入口（公众）  {base}/complaints/new?hall={DEMO_HALL}\n"
        f"  API 文档  {base}/docs"
    )
    console.print("\n".join(guide.lines(base)), highlight=False, soft_wrap=True)  # URLs unbroken
    console.print("按 Ctrl+C 停止")
    hall = SimulatedHall(
        hall_plan,
        base_url=base,
        username="admin",
        password=DEMO_PASSWORD,
        display_ports=DEMO_DISPLAY_PORTS,
        display_host=host,
    )
    threading.Thread(target=_start_hall, args=(hall, base), daemon=True).start()
    try:
        app = create_app(settings, engine=engine)
        warm_up(app)
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", proxy_headers=False, timeout_graceful_shutdown=5
        )
        _DemoServer(config, hall).run()
    finally:
        hall.stop()


class _DemoServer(uvicorn.Server):
    """On Ctrl+C the demo hall stops first, while central still answers: its screens end their event
    streams (which central would otherwise wait on) and its edge agent delivers what it holds."""

    def __init__(self, config: uvicorn.Config, hall: SimulatedHall) -> None:
        super().__init__(config)
        self.hall = hall

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await asyncio.to_thread(self.hall.stop)
        await super().shutdown(sockets=sockets)


def _start_hall(hall: SimulatedHall, base: str) -> None:
    """Once central answers, the demo hall's keypads, edge agent, citizens and screens start."""
    if wait_until_up(base):
        hall.start()
        console.print(
            f"模拟大厅 {hall.plan.hall}：{len(hall.plan.windows)} 个评价器（{hall.workdir}），群众每隔数秒办件并评价"
        )
        lines = [status.line() for status in hall.displays.statuses]
        if hall.plan.kiosk_case is not None:
            lines.append(f"  {hall.plan.kiosk_case.line()}")
        console.print("\n".join(lines), highlight=False, markup=False, soft_wrap=True)  # URLs unbroken

"""`hallwatch patrol …`: the draw key and the day's patrol plan (SC-6(1))."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from central.cli.common import cli_session, console, fail
from central.core.clock import system_clock
from central.core.config import Settings
from central.patrols.key import generate_key_file
from central.patrols.queries import plan_public
from central.patrols.schemas import PlanPublic
from central.patrols.service import PlanRefused, plan_by_settings
from central.registry.jurisdiction import ScopeKind, jurisdiction_of

logger = logging.getLogger(__name__)

app = typer.Typer(help="Video patrols (视频监察): the draw key and the daily plan.", no_args_is_help=True)


@app.command("keygen")
def patrol_keygen(
    path: Path | None = typer.Argument(None, help="Key file to create (default: HALLWATCH_PATROL_KEY_FILE)."),
) -> None:
    """Create the secret key that draws the province's daily choice of cities and counties (0600)."""
    target = path or Settings().patrol_key_file
    if target is None:
        raise fail("name the key file, or set HALLWATCH_PATROL_KEY_FILE")
    try:
        key_id = generate_key_file(target)
    except FileExistsError as exc:
        raise fail(
            f"{target} exists: a plan drawn with it could no longer be recomputed if it changed"
        ) from exc
    except OSError as exc:
        raise fail(str(exc)) from exc
    console.print(f"巡查抽选密钥已生成 key {key_id}: {target} (0600，勿入数据库；审计时提供给审计人员)")


@app.command("plan")
def patrol_plan(
    day: datetime | None = typer.Option(
        None, "--date", formats=["%Y-%m-%d"], help="The day (default: today)."
    ),
) -> None:
    """Print the day's patrol plan of every supervising body (drawing today's if nobody has yet)."""
    with cli_session() as (settings, session):
        try:
            plan = plan_by_settings(
                session, settings=settings, now=system_clock(), day=day.date() if day else None
            )
        except PlanRefused as exc:
            raise fail(str(exc), 1) from exc
        if plan is None:
            console.print(f"{day.date() if day else '今日'} 非工作日，无巡查任务 (not a working day)")
            return
        public = plan_public(
            session, plan, within=jurisdiction_of(session, kind=ScopeKind.DEPLOYMENT, scope_id=0)
        )
    _print(public)


def _print(plan: PlanPublic) -> None:
    console.print(f"[bold]{plan.day} 视频巡查计划[/] (key {plan.key_id}, {len(plan.patrols)} 次巡查)")
    for pool, regions in plan.drawn.items():
        console.print(f"抽选 {pool}: " + "、".join(f"{r.name}({r.code})" for r in regions))
    if plan.gaps:
        console.print("[yellow]未登记服务中心[/]: " + "、".join(f"{r.name}({r.code})" for r in plan.gaps))
    table = Table("监察机构", "巡查对象", "类别", "次", "监察员")
    for task in plan.patrols:
        table.add_row(
            f"{task.body.name}",
            f"{task.hall_name}",
            task.reason_label,
            str(task.seq),
            task.inspector or "未分配",
        )
    console.print(table)
    per_body = Counter(t.body.name for t in plan.patrols)
    logger.debug("patrols per body: %s", per_body)

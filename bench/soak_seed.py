"""The soak's registry: `halls` county halls of one province, each with its windows (a keypad each), a
department, an item and a clerk for the case events, one edge device and one display device per hall
screen, each with its own key; a supervisor who pushes case events (the case system's account) and an
inspector who reads the console."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from bench.soak_plan import HallPlan
from central.access.roles import Role
from central.access.service import create_user
from central.core.actor import Actor
from central.core.db import make_engine, make_session_factory
from central.core.migrate import upgrade
from central.devices.keys import issue_key
from central.registry.models import Department, Device, Hall, Item, Region, ServiceWindow, Staff

logger = logging.getLogger(__name__)

PROVINCE = "510000"
SUPERVISOR, INSPECTOR = "soak-cases", "soak-inspector"
PASSWORD = "soak-password-2026"
ACTOR = Actor(kind="cli", name="bench.soak")


def hall_code(n: int) -> str:
    return f"SOAK{n:03d}"


def seed(url: str, *, halls: int, windows: int, displays: int) -> list[HallPlan]:
    """The registry in a fresh schema; answers each hall's plan (codes and device keys)."""
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    plans: list[HallPlan] = []
    with make_session_factory(engine)() as session:
        province = Region(code=PROVINCE, name="四川省", level="province")
        session.add(province)
        session.flush()
        for n in range(halls):
            code = hall_code(n)
            hall = Hall(code=code, name=f"第{n + 1}政务服务中心", region_id=province.id, level="county")
            session.add(hall)
            session.flush()
            department = Department(code=f"{code}-SCJG", name="市场监管局", hall_id=hall.id)
            session.add(department)
            session.flush()
            window_rows = [
                ServiceWindow(
                    code=f"W{w:02d}", name=f"{w}号窗口", hall_id=hall.id, department_id=department.id
                )
                for w in range(1, windows + 1)
            ]
            session.add_all(window_rows)
            session.flush()
            staff = Staff(
                code=f"{code}-S01", name="王芳", department_id=department.id, window_id=window_rows[0].id
            )
            item = Item(code=f"{code}-XK", name="食品经营许可", department_id=department.id,
                        legal_limit_days=20, promised_limit_days=10, fee=Decimal("0"))  # fmt: skip
            edge = Device(code=f"EDGE-{code}", kind="edge", name="边缘盒", hall_id=hall.id)
            screens = [
                Device(code=f"LED-{code}-{s:02d}", kind="display", name=f"大厅屏{s}", hall_id=hall.id)
                for s in range(displays // halls + (1 if n < displays % halls else 0))
            ]
            session.add_all([staff, item, edge, *screens])
            session.flush()
            plans.append(
                HallPlan(
                    code=code,
                    device_id=edge.id,
                    edge_key=_key(session, edge, now),
                    windows=[w.code for w in window_rows],
                    display_keys=[_key(session, screen, now) for screen in screens],
                    item_code=item.code,
                    staff_code=staff.code,
                )
            )
        for username, role, scope in (
            (SUPERVISOR, Role.SYSTEM_SUPERVISOR, "*"),
            (INSPECTOR, Role.INSPECTOR, PROVINCE),
        ):
            create_user(session, username=username, password=PASSWORD, role=role, scope_code=scope,
                        display_name=None, granted_by=None, now=now, actor=ACTOR)  # fmt: skip
        session.commit()
    engine.dispose()
    return plans


def _key(session: Session, device: Device, now: datetime) -> str:
    return issue_key(session, device=device, now=now, issued_by=None, actor=ACTOR).key

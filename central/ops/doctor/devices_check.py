"""The halls' devices: each agent's clock against central's, and devices gone silent.

Last seen is a device key's last use (`DeviceKey.last_used_at`, written at most once a minute): an
edge agent asks central's time every minute and pings its channel more often; a display agent
refreshes its hall's catalog hourly (its feed stream stays open between). A keypad has no key: its
edge agent reports its health every minute or so (`KeypadHealth`). A device whose keys are all
revoked is retired and not looked at."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from central.access.models import DeviceKey
from central.devices.models import DeviceClock
from central.ops.doctor.limits import DoctorLimits
from central.ops.report import Check, Status, age, local_time
from central.ratings.models import KeypadHealth
from central.registry.models import Device, Hall, ServiceWindow

logger = logging.getLogger(__name__)

SKEW_TITLE = "代理时钟 agent clocks"
DEVICES_TITLE = "设备在线 devices heard from"


def check_clocks(session: Session, *, limits: DoctorLimits) -> Check:
    rows = session.execute(
        select(Device.code, Device.name, Hall.code, DeviceClock.skew_seconds, DeviceClock.measured_at)
        .join(Device, Device.id == DeviceClock.device_id)
        .join(Hall, Hall.id == Device.hall_id)
        .order_by(Hall.code, Device.code)
    ).all()
    if not rows:
        return Check(
            "clock_skew", SKEW_TITLE, Status.OK, "尚无代理报告时钟 no agent has reported its clock yet"
        )
    off = [r for r in rows if abs(r.skew_seconds) > limits.max_clock_skew_seconds]
    worst = max(abs(r.skew_seconds) for r in rows)
    if not off:
        summary = (
            f"{len(rows)} 台已测, 最大偏差 {worst:.1f} 秒 — {len(rows)} measured, at most {worst:.1f} s off"
        )
        return Check("clock_skew", SKEW_TITLE, Status.OK, summary)
    details = tuple(
        f"{r.code} {r.name} ({r[2]}): {'快' if r.skew_seconds > 0 else '慢'} {abs(r.skew_seconds):.1f} 秒 "
        f"{'ahead' if r.skew_seconds > 0 else 'behind'} (测于 measured {local_time(r.measured_at)})"
        for r in off
    )
    summary = (
        f"{len(off)} 台时钟偏差超过 {limits.max_clock_skew_seconds:g} 秒 — {len(off)} agent(s) off by more than "
        f"{limits.max_clock_skew_seconds:g} s"
    )
    hint = (
        "在这些边缘盒上配置 NTP (chrony 或 systemd-timesyncd, 指向中心或本地时间服务器); 代理已按中心时间校正上报, "
        "但盒子自身的时钟 (日志、录像文件、TLS 证书校验) 仍不准 — set up NTP on these boxes: their stamps are "
        "corrected, but their own clock (logs, recordings, TLS checks) is still wrong"
    )
    return Check("clock_skew", SKEW_TITLE, Status.ERROR, summary, details, hint)


@dataclass(frozen=True)
class _Problem:
    line: str
    kind: str  # edge | display | keypad | …
    error: bool  # silent or offline; False: keyed but never connected


def check_devices(session: Session, *, now: datetime, limits: DoctorLimits) -> Check:
    problems = [*_keyed_devices(session, now=now, limits=limits), *_keypads(session, now=now, limits=limits)]
    if not problems:
        return Check("devices", DEVICES_TITLE, Status.OK, "所有设备在线 every device was heard from in time")
    errors = [p for p in problems if p.error]
    never = [p for p in problems if not p.error]
    summary = f"{len(errors)} 台失联或离线 silent or offline, {len(never)} 台已发密钥但从未连接 keyed but never connected"
    status = Status.ERROR if errors else Status.WARNING
    return Check("devices", DEVICES_TITLE, status, summary, tuple(p.line for p in problems), _hint(problems))


def _keyed_devices(session: Session, *, now: datetime, limits: DoctorLimits) -> list[_Problem]:
    active = func.sum(case((DeviceKey.revoked_at.is_(None), 1), else_=0))
    rows = session.execute(
        select(
            Device.code, Device.kind, Device.name, Hall.code.label("hall"), func.max(DeviceKey.last_used_at)
        )
        .join(DeviceKey, DeviceKey.device_id == Device.id)
        .join(Hall, Hall.id == Device.hall_id)
        .group_by(Device.id, Device.code, Device.kind, Device.name, Hall.code)
        .having(active > 0)
        .order_by(Hall.code, Device.code)
    ).all()
    problems = []
    for code, kind, name, hall, last_seen in rows:
        minutes = limits.display_silent_minutes if kind == "display" else limits.edge_silent_minutes
        where = f"{code} {name} ({hall}, {kind})"
        if last_seen is None:
            problems.append(_Problem(f"{where}: 从未连接 never connected", kind, error=False))
        elif now - last_seen > timedelta(minutes=minutes):
            line = f"{where}: {age(now - last_seen)}未联系 silent since {local_time(last_seen)}"
            problems.append(_Problem(line, kind, error=True))
    return problems


def _keypads(session: Session, *, now: datetime, limits: DoctorLimits) -> list[_Problem]:
    rows = session.execute(
        select(KeypadHealth, Hall.code, ServiceWindow.code)
        .join(Device, Device.id == KeypadHealth.device_id)
        .join(Hall, Hall.id == Device.hall_id)
        .outerjoin(ServiceWindow, ServiceWindow.id == KeypadHealth.window_id)
        .order_by(Hall.code, KeypadHealth.keypad)
    ).all()
    problems = []
    for health, hall, window in rows:
        where = f"{health.keypad} ({hall}, {window or '—'}, keypad)"
        if now - health.reported_at > timedelta(minutes=limits.keypad_silent_minutes):
            line = f"{where}: {age(now - health.reported_at)}无状态报告 no report since {local_time(health.reported_at)}"
            problems.append(_Problem(line, "keypad", error=True))
        elif not health.online:
            line = f"{where}: 离线 offline (报告于 reported {local_time(health.reported_at)})"
            problems.append(_Problem(line, "keypad", error=True))
    return problems


HINTS = {
    "edge": "边缘盒: 检查电源、网络、systemctl status hallwatch-edge 与其日志、密钥是否被轮换 — edge box: power, "
    "network, the hallwatch-edge service and its log, a rotated key",
    "display": "显示屏电脑: 检查 systemctl status hallwatch-display、网络与密钥 — display PC: its service, "
    "network and key",
    "keypad": "评价器: 检查串口连线与供电, 以及边缘配置中的 keypads — keypad: its serial cable and power, the "
    "edge config's keypads",
}


def _hint(problems: Sequence[_Problem]) -> str:
    kinds = sorted({p.kind for p in problems})
    parts = [HINTS.get(kind, f"{kind}: 检查设备与其代理 — check the device and its agent") for kind in kinds]
    if any(not p.error for p in problems):
        parts.append(
            "从未连接的: 把密钥装到设备上, 或吊销不用的密钥 — never connected: install its key, or revoke it"
        )
    return "; ".join(parts)

"""The edge agents' outbox disks, as each last reported them (`central.devices.outboxes`): a full
outbox refuses every new observation (an error), a low one refuses evidence snapshots and patrol clips
(a warning). The agent reports it outside the outbox — its channel pings and its time syncs — since an
observation through a full outbox cannot carry it. A device whose keys are all revoked is retired and
not looked at."""

from __future__ import annotations

import logging

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from central.access.models import DeviceKey
from central.devices.models import DeviceOutbox
from central.devices.outboxes import OutboxState, read_state
from central.ops.report import Check, Status, local_time
from central.registry.models import Device, Hall

logger = logging.getLogger(__name__)

OUTBOX_TITLE = "边缘发件箱磁盘 edge outbox disks"
MB = 1024 * 1024
STATES = {
    "full": "已满, 拒收一切新观测 full: every new observation refused",
    "low": "空间不足, 拒收证据截图与视频片段 low: evidence snapshots and clips refused",
}
HINT = (
    "在这些边缘盒上腾出发件箱所在分区的磁盘空间 (日志、录像、旧文件), 用 `hallwatch edge outbox /etc/hallwatch/hall.yaml` "
    "查看剩余空间、保留量和待上传的观测; 空间恢复后代理自动恢复存储, 无需重启 — free disk space on these boxes (the "
    "outbox's file system: logs, recordings, old files), check `hallwatch edge outbox CONFIG` for free space "
    "against the reserve and what waits; the agent stores again by itself once there is room, no restart"
)


def check_outboxes(session: Session) -> Check:
    keyed = exists().where(DeviceKey.device_id == Device.id, DeviceKey.revoked_at.is_(None))
    rows = session.execute(
        select(Device.code, Device.name, Hall.code, DeviceOutbox)
        .join(Device, Device.id == DeviceOutbox.device_id)
        .join(Hall, Hall.id == Device.hall_id)
        .where(keyed)
        .order_by(Hall.code, Device.code)
    ).all()
    if not rows:
        return Check(
            "edge_outbox", OUTBOX_TITLE, Status.OK, "尚无代理报告发件箱 no agent has reported its outbox yet"
        )
    states = [(code, name, hall, read_state(row)) for code, name, hall, row in rows]
    full = [s for s in states if s[3].state == "full"]
    low = [s for s in states if s[3].state == "low"]
    if not full and not low:
        summary = f"{len(rows)} 台已报告, 磁盘空间充足 — {len(rows)} reported, every outbox has room"
        return Check("edge_outbox", OUTBOX_TITLE, Status.OK, summary)
    summary = f"{len(full)} 台发件箱已满, {len(low)} 台空间不足 — {len(full)} outbox(es) full, {len(low)} low on space"
    details = tuple(_line(code, name, hall, state) for code, name, hall, state in [*full, *low])
    return Check(
        "edge_outbox", OUTBOX_TITLE, Status.ERROR if full else Status.WARNING, summary, details, HINT
    )


def _line(code: str, name: str, hall: str, state: OutboxState) -> str:
    since = f"自 since {local_time(state.since)}" if state.since is not None else "—"
    kinds = ", ".join(
        f"{kind} {n}" for kind, n in sorted(state.refused_by_kind.items(), key=lambda kv: -kv[1])
    )
    return (
        f"{code} {name} ({hall}): {STATES[state.state]} {since}; 已拒收 {state.refused} 条 refused"
        f"{f' ({kinds})' if kinds else ''}; 剩余 {state.free_bytes / MB:.1f} MB free "
        f"(报告于 reported {local_time(state.reported_at)})"
    )

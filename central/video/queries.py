"""Reading the video state of halls: the halls of a jurisdiction, each window's current state, the
cameras, and a day's timeline. Jurisdiction is applied in SQL (`Jurisdiction.clause`): a department
sees its own windows only; camera rows belong to the hall (no department), so they show to scopes
covering the whole hall, while a department's windows still show their camera's state.

A window's state now, in this order:
1. no camera has reported on the window → 未知 (no video data);
2. its camera reported offline, or sent nothing for `SILENT_AFTER` → 摄像机离线 (never shown as live,
   SC-5(5));
3. an absence that began today and has not ended → 离岗;
4. outside working hours or in a break (profile `presence`, central calendar) → 未知 (not staffed);
5. otherwise → 在岗: the edge reports an absence only past the threshold, so a seat empty for less
   is not an absence (SC-6.1).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, case, func, null, or_, select, true
from sqlalchemy.orm import Session

from central.core.clock import SHANGHAI, shanghai_date, to_utc
from central.registry.jurisdiction import Jurisdiction, ScopeKind
from central.registry.models import Department, Device, Hall, ServiceWindow
from central.video.errors import VideoError
from central.video.labels import WINDOW_STATE_LABELS, AbsenceStatus, WindowState
from central.video.models import AbsenceEvent, CameraOutage, CameraState, PresenceInterval, WindowCamera
from central.video.schedule import staffed_at
from central.video.schemas import (
    CameraOut,
    HallVideoOut,
    SegmentOut,
    TimelineOut,
    WindowStateOut,
    WindowTimelineOut,
)
from central.video.timeline import Segment, clip, covered_seconds
from common.profiles.schema import PresenceRules
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)

SILENT_AFTER = timedelta(minutes=5)  # edge agents report camera health every minute or so
CameraKey = tuple[int, str]  # (device id, camera)


def hall_clause(within: Jurisdiction) -> ColumnElement[bool]:
    """Halls in the jurisdiction (a department's own hall included)."""
    return true() if within.kind is ScopeKind.DEPLOYMENT else Hall.id.in_(sorted(within.hall_ids))


def window_clause(within: Jurisdiction) -> ColumnElement[bool]:
    return within.clause(hall_id=ServiceWindow.hall_id, department_id=ServiceWindow.department_id)


def camera_clause(within: Jurisdiction) -> ColumnElement[bool]:
    return within.clause(hall_id=CameraState.hall_id, department_id=null())


def find_hall(session: Session, *, code: str, within: Jurisdiction) -> Hall:
    hall = session.scalars(select(Hall).where(Hall.code == code, hall_clause(within))).first()
    if hall is None:
        raise VideoError(404, f"no hall {code}", f"没有编号为“{code[:40]}”的大厅，或不在您的辖区内。")
    return hall


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), SHANGHAI).astimezone(UTC)
    return start, start + timedelta(days=1)


def video_halls(session: Session, *, within: Jurisdiction, now: datetime) -> list[HallVideoOut]:
    """Every hall of the jurisdiction with its window, camera and pending-absence counts."""
    halls = session.execute(
        select(Hall.id, Hall.code, Hall.name).where(hall_clause(within)).order_by(Hall.code)
    )
    windows = {
        hall_id: (total, with_camera)
        for hall_id, total, with_camera in session.execute(
            select(ServiceWindow.hall_id, func.count(ServiceWindow.id), func.count(WindowCamera.id))
            .outerjoin(WindowCamera, WindowCamera.window_id == ServiceWindow.id)
            .where(window_clause(within))
            .group_by(ServiceWindow.hall_id)
        )
    }
    down = or_(CameraState.online.is_(False), CameraState.reported_at < now - SILENT_AFTER)
    cameras = {
        hall_id: (total, int(offline or 0))
        for hall_id, total, offline in session.execute(
            select(CameraState.hall_id, func.count(CameraState.id), func.sum(case((down, 1), else_=0)))
            .where(camera_clause(within))
            .group_by(CameraState.hall_id)
        )
    }
    pending = {
        hall_id: total
        for hall_id, total in session.execute(
            select(AbsenceEvent.hall_id, func.count(AbsenceEvent.id))
            .where(
                AbsenceEvent.status == AbsenceStatus.PENDING.value,
                within.clause(hall_id=AbsenceEvent.hall_id, department_id=AbsenceEvent.department_id),
            )
            .group_by(AbsenceEvent.hall_id)
        )
    }
    return [
        HallVideoOut(
            code=code,
            name=name,
            windows=windows.get(hall_id, (0, 0))[0],
            windows_with_camera=windows.get(hall_id, (0, 0))[1],
            cameras=cameras.get(hall_id, (0, 0))[0],
            cameras_offline=cameras.get(hall_id, (0, 0))[1],
            pending_absences=pending.get(hall_id, 0),
        )
        for hall_id, code, name in halls
    ]


@dataclass(frozen=True)
class HallWindow:
    id: int
    code: str
    name: str
    department_code: str | None
    camera: CameraKey | None
    staffed: bool | None = None  # the edge's judgement at the camera's last health report
    seat_taken: bool | None = None
    taken_since: datetime | None = None


def hall_windows(session: Session, *, hall: Hall, within: Jurisdiction) -> list[HallWindow]:
    rows = session.execute(
        select(ServiceWindow.id, ServiceWindow.code, ServiceWindow.name, Department.code, WindowCamera)
        .outerjoin(Department, Department.id == ServiceWindow.department_id)
        .outerjoin(WindowCamera, WindowCamera.window_id == ServiceWindow.id)
        .where(ServiceWindow.hall_id == hall.id, window_clause(within))
        .order_by(ServiceWindow.code)
    )
    return [
        HallWindow(
            id,
            code,
            name,
            department,
            (cam.device_id, cam.camera) if cam else None,
            cam.staffed if cam else None,
            cam.seat_taken if cam else None,
            cam.taken_since if cam else None,
        )
        for id, code, name, department, cam in rows
    ]


def _camera_states(session: Session, keys: set[CameraKey]) -> dict[CameraKey, CameraState]:
    if not keys:
        return {}
    query = select(CameraState).where(
        CameraState.device_id.in_(sorted({d for d, _ in keys})),
        CameraState.camera.in_(sorted({c for _, c in keys})),
    )
    return {(s.device_id, s.camera): s for s in session.scalars(query) if (s.device_id, s.camera) in keys}


def _outages(
    session: Session, keys: set[CameraKey], *, start: datetime | None = None, until: datetime | None = None
) -> dict[CameraKey, list[CameraOutage]]:
    """Outages of these cameras: the open ones, or (with a range) those overlapping it."""
    found: dict[CameraKey, list[CameraOutage]] = defaultdict(list)
    if not keys:
        return found
    query = select(CameraOutage).where(
        CameraOutage.device_id.in_(sorted({d for d, _ in keys})),
        CameraOutage.camera.in_(sorted({c for _, c in keys})),
    )
    if start is None or until is None:
        query = query.where(CameraOutage.ended_at.is_(None))
    else:
        query = query.where(
            CameraOutage.started_at < until,
            or_(CameraOutage.ended_at.is_(None), CameraOutage.ended_at > start),
        )
    for outage in session.scalars(query.order_by(CameraOutage.started_at)):
        if (outage.device_id, outage.camera) in keys:
            found[(outage.device_id, outage.camera)].append(outage)
    return found


def window_states(
    session: Session,
    *,
    hall: Hall,
    within: Jurisdiction,
    now: datetime,
    calendar: WorkCalendar,
    rules: PresenceRules,
) -> list[WindowStateOut]:
    windows = hall_windows(session, hall=hall, within=within)
    keys = {w.camera for w in windows if w.camera}
    states, outages = _camera_states(session, keys), _outages(session, keys)
    day_start, _ = day_bounds(shanghai_date(now))
    open_absences = {
        window_id: started
        for window_id, started in session.execute(
            select(AbsenceEvent.window_id, func.max(AbsenceEvent.started_at))
            .where(
                AbsenceEvent.window_id.in_([w.id for w in windows]),
                AbsenceEvent.ended_at.is_(None),
                AbsenceEvent.started_at >= day_start,
            )
            .group_by(AbsenceEvent.window_id)
        )
    }
    staffed = staffed_at(now, rules, calendar)
    result = []
    for window in windows:
        camera_state = states.get(window.camera) if window.camera else None
        open_outage = outages.get(window.camera, []) if window.camera else []
        state, since, note = _state(
            window, camera_state, open_outage, open_absences.get(window.id), staffed, now
        )
        result.append(
            WindowStateOut(
                code=window.code,
                name=window.name,
                department_code=window.department_code,
                state=state,
                state_label=WINDOW_STATE_LABELS[state],
                since=since,
                camera=window.camera[1] if window.camera else None,
                camera_reported_at=camera_state.reported_at if camera_state else None,
                note=note,
            )
        )
    return result


def _state(
    window: HallWindow,
    camera: CameraState | None,
    outages: list[CameraOutage],
    absent_since: datetime | None,
    staffed: bool | None,
    now: datetime,
) -> tuple[WindowState, datetime | None, str | None]:
    if window.camera is None:
        return WindowState.UNKNOWN, None, "尚无视频数据"
    if camera is None:
        return WindowState.CAMERA_OFFLINE, None, "摄像机从未上报状态"
    if not camera.online:
        return (
            WindowState.CAMERA_OFFLINE,
            outages[0].started_at if outages else camera.reported_at,
            camera.detail,
        )
    if now - camera.reported_at > SILENT_AFTER:
        return WindowState.CAMERA_OFFLINE, camera.reported_at, "超过 5 分钟未收到摄像机状态"
    if absent_since is not None:
        return WindowState.ABSENT, absent_since, None
    if window.staffed is not None:  # the edge's hours for this window win over the profile's
        if not window.staffed:
            return WindowState.OFF_HOURS, None, None
        if window.seat_taken is False:
            return WindowState.SEAT_EMPTY, None, "座位空置，未超过离岗阈值"
        return WindowState.PRESENT, None, None
    if staffed is None:
        return WindowState.UNKNOWN, None, "工作日历缺少本年度"
    if not staffed:
        return WindowState.OFF_HOURS, None, None
    return WindowState.PRESENT, None, None


def camera_rows(session: Session, *, hall: Hall, within: Jurisdiction, now: datetime) -> list[CameraOut]:
    rows = session.execute(
        select(CameraState, Device.code)
        .join(Device, Device.id == CameraState.device_id)
        .where(CameraState.hall_id == hall.id, camera_clause(within))
        .order_by(Device.code, CameraState.camera)
    ).all()
    outages = _outages(session, {(s.device_id, s.camera) for s, _ in rows})
    result = []
    for state, device_code in rows:
        silent = now - state.reported_at > SILENT_AFTER
        open_outage = outages.get((state.device_id, state.camera))
        result.append(
            CameraOut(
                device_code=device_code,
                camera=state.camera,
                online=state.online and not silent,
                silent=silent,
                reported_at=state.reported_at,
                fps=state.fps,
                width=state.width,
                height=state.height,
                reconnects=state.reconnects,
                detail=state.detail,
                outage_since=open_outage[0].started_at if open_outage else None,
            )
        )
    return result


def day_timeline(
    session: Session, *, hall: Hall, within: Jurisdiction, day: date, now: datetime
) -> TimelineOut:
    """Each window's presence, absences and camera outages of one Shanghai day (up to now for today)."""
    start, end = day_bounds(day)
    until = max(start, min(end, now))
    windows = hall_windows(session, hall=hall, within=within)
    ids = [w.id for w in windows]
    segments: dict[int, list[Segment]] = defaultdict(list)
    for window_id, began, ended in session.execute(
        select(PresenceInterval.window_id, PresenceInterval.started_at, PresenceInterval.ended_at).where(
            PresenceInterval.window_id.in_(ids),
            PresenceInterval.started_at < until,
            PresenceInterval.ended_at > start,
        )
    ):
        segments[window_id].append(Segment("presence", began, ended))
    for window in windows:  # the seat taken now: an interval not yet ended, drawn up to now
        since = window.taken_since
        stored_starts = {to_utc(s.start) for s in segments[window.id]}
        if window.seat_taken and since is not None and since < until and to_utc(since) not in stored_starts:
            segments[window.id].append(Segment("presence", since, until, open=True))
    for window_id, left, right in session.execute(
        select(AbsenceEvent.window_id, AbsenceEvent.started_at, AbsenceEvent.ended_at).where(
            AbsenceEvent.window_id.in_(ids),
            AbsenceEvent.started_at < until,
            or_(AbsenceEvent.ended_at.is_(None), AbsenceEvent.ended_at > start),
        )
    ):
        segments[window_id].append(Segment("absence", left, right or until, open=right is None))
    keys = {w.camera for w in windows if w.camera}
    offline = _offline_segments(session, keys, start=start, until=until, now=now)
    rows = []
    for window in windows:
        own = clip(
            [*segments[window.id], *(offline.get(window.camera, []) if window.camera else [])], start, until
        )
        rows.append(
            WindowTimelineOut(
                code=window.code,
                name=window.name,
                segments=[SegmentOut(kind=s.kind, start=s.start, end=s.end, open=s.open) for s in own],
                present_seconds=covered_seconds(own, "presence"),
                absent_seconds=covered_seconds(own, "absence"),
                camera_offline_seconds=covered_seconds(own, "camera_offline"),
            )
        )
    return TimelineOut(hall_code=hall.code, day=day, until=until, windows=rows)


def _offline_segments(
    session: Session, keys: set[CameraKey], *, start: datetime, until: datetime, now: datetime
) -> dict[CameraKey, list[Segment]]:
    """Outages overlapping the range, and a camera silent now: grey from its last report on."""
    found: dict[CameraKey, list[Segment]] = defaultdict(list)
    for key, outages in _outages(session, keys, start=start, until=until).items():
        found[key] = [
            Segment("camera_offline", o.started_at, o.ended_at or until, open=o.ended_at is None)
            for o in outages
        ]
    if until >= now - SILENT_AFTER:  # the range reaches now: a camera gone quiet is offline too
        for key, state in _camera_states(session, keys).items():
            if state.online and now - state.reported_at > SILENT_AFTER:
                found[key].append(Segment("camera_offline", state.reported_at, until, open=True))
    return found


__all__ = [
    "SILENT_AFTER",
    "camera_rows",
    "day_bounds",
    "day_timeline",
    "find_hall",
    "hall_windows",
    "video_halls",
    "window_states",
]

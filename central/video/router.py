"""Video API: halls and their windows' state, cameras, timelines, visitor counts, the dual-track
cross-check, absences with their review, and evidence (SC-18). Thin: parse, authorise, call a query
or a service, shape the answer. Reading needs a part in supervision (`signals.supervise` or
`signals.respond`); every query is limited to the caller's jurisdiction in SQL."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from sqlalchemy import select

from central.access.deps import Principal, PrincipalDep
from central.access.refusals import audit_refusal
from central.access.roles import Permission
from central.core.clock import shanghai_date
from central.core.deps import CalendarDep, NowDep, SessionDep, SettingsDep
from central.core.types import Day
from central.profiles.assignment import profile_for_hall
from central.registry.models import Hall, ServiceWindow
from central.video.absence_queries import AbsenceFilters, get_absence, list_absences
from central.video.errors import VideoError
from central.video.evidence import evidence_for_supervisor, evidence_image, may_view
from central.video.labels import AbsenceStatus
from central.video.models import WEBM, AbsenceEvent, AbsenceEvidence, Evidence
from central.video.queries import camera_rows, day_timeline, find_hall, video_halls, window_states
from central.video.review import confirm_absence, dismiss_absence
from central.video.schemas import (
    AbsenceOut,
    AbsencePage,
    AbsenceReviewIn,
    CameraOut,
    DualTrackRow,
    EvidenceOut,
    HallVideoOut,
    TimelineOut,
    VisitorRow,
    VisitorsBy,
    WindowStateOut,
)
from central.video.visitor_queries import dual_track, visitor_counts

logger = logging.getLogger(__name__)
router = APIRouter(tags=["video"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
HallCode = Annotated[str, Path(min_length=1, max_length=40)]
ItemId = Annotated[int, Path(ge=1, le=2**62)]


def video_reader(principal: PrincipalDep) -> Principal:
    if not (principal.may(Permission.SIGNALS_SUPERVISE) or principal.may(Permission.SIGNALS_RESPOND)):
        raise HTTPException(403, f"your role ({principal.role.value}) may not read video supervision data")
    return principal


Reader = Annotated[Principal, Depends(video_reader)]


def _http(exc: VideoError) -> HTTPException:
    return HTTPException(exc.status_code, exc.detail)


def _hall(session: SessionDep, principal: Principal, code: str) -> Hall:
    try:
        return find_hall(session, code=code, within=principal.jurisdiction)
    except VideoError as exc:
        raise _http(exc) from exc


@router.get("/video/halls", response_model=list[HallVideoOut])
def halls(principal: Reader, session: SessionDep, now: NowDep) -> list[HallVideoOut]:
    return video_halls(session, within=principal.jurisdiction, now=now)


@router.get("/video/halls/{hall_code}/windows", response_model=list[WindowStateOut])
def windows(
    hall_code: HallCode,
    principal: Reader,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
) -> list[WindowStateOut]:
    """Each window's state now: present / absent / unknown / camera_offline."""
    hall = _hall(session, principal, hall_code)
    rules = profile_for_hall(session, hall_id=hall.id, default_key=settings.rule_profile).presence
    return window_states(
        session, hall=hall, within=principal.jurisdiction, now=now, calendar=calendar, rules=rules
    )


@router.get("/video/halls/{hall_code}/cameras", response_model=list[CameraOut])
def cameras(hall_code: HallCode, principal: Reader, session: SessionDep, now: NowDep) -> list[CameraOut]:
    hall = _hall(session, principal, hall_code)
    return camera_rows(session, hall=hall, within=principal.jurisdiction, now=now)


@router.get("/video/halls/{hall_code}/timeline", response_model=TimelineOut)
def timeline(
    hall_code: HallCode,
    principal: Reader,
    session: SessionDep,
    now: NowDep,
    day: Annotated[Day | None, Query(description="Shanghai day; today by default.")] = None,
) -> TimelineOut:
    hall = _hall(session, principal, hall_code)
    return day_timeline(
        session, hall=hall, within=principal.jurisdiction, day=day or shanghai_date(now), now=now
    )


@router.get("/video/halls/{hall_code}/visitors", response_model=list[VisitorRow])
def visitors(
    hall_code: HallCode,
    principal: Reader,
    session: SessionDep,
    now: NowDep,
    date_from: Day | None = None,
    date_to: Day | None = None,
    by: VisitorsBy = VisitorsBy.HOUR,
) -> list[VisitorRow]:
    hall = _hall(session, principal, hall_code)
    today = shanghai_date(now)
    try:
        return visitor_counts(
            session,
            hall=hall,
            within=principal.jurisdiction,
            date_from=date_from or date_to or today,
            date_to=date_to or date_from or today,
            by=by,
        )
    except VideoError as exc:
        raise _http(exc) from exc


@router.get("/video/halls/{hall_code}/dual-track", response_model=list[DualTrackRow])
def dual_track_check(
    hall_code: HallCode,
    principal: Reader,
    session: SessionDep,
    now: NowDep,
    date_from: Day | None = None,
    date_to: Day | None = None,
) -> list[DualTrackRow]:
    """Per window per day: visits the camera counted vs cases the window recorded (双轨运行)."""
    hall = _hall(session, principal, hall_code)
    today = shanghai_date(now)
    try:
        return dual_track(
            session,
            hall=hall,
            within=principal.jurisdiction,
            date_from=date_from or date_to or today,
            date_to=date_to or date_from or today,
        )
    except VideoError as exc:
        raise _http(exc) from exc


@router.get("/video/absences", response_model=AbsencePage)
def absences(
    principal: Reader,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    hall: Annotated[str | None, Query(max_length=40)] = None,
    window: Annotated[str | None, Query(max_length=40)] = None,
    status: AbsenceStatus | None = None,
    date_from: Day | None = None,
    date_to: Day | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1)] = 50,
) -> AbsencePage:
    if page_size > settings.page_size_max:
        raise HTTPException(422, f"page_size is at most {settings.page_size_max}")
    filters = AbsenceFilters(
        within=principal.jurisdiction,
        hall_code=hall,
        window_code=window,
        status=status,
        date_from=date_from,
        date_to=date_to,
    )
    return list_absences(session, filters=filters, page=page, page_size=page_size, now=now)


def _absence_or_404(
    request: Request, session: SessionDep, principal: Principal, absence_id: int, now: NowDep
) -> AbsenceOut:
    found = get_absence(session, absence_id=absence_id, within=principal.jurisdiction, now=now)
    if found is None:
        if session.get(AbsenceEvent, absence_id) is not None:  # the same 404, but the probe is audited
            audit_refusal(request, action="refused.out_of_jurisdiction", detail=f"absence {absence_id}")
        raise HTTPException(404, f"no absence #{absence_id}")
    return found


@router.get("/video/absences/{absence_id}", response_model=AbsenceOut)
def absence(
    request: Request, absence_id: ItemId, principal: Reader, session: SessionDep, now: NowDep
) -> AbsenceOut:
    return _absence_or_404(request, session, principal, absence_id, now)


@router.post("/video/absences/{absence_id}/confirm", response_model=AbsenceOut)
def confirm(
    absence_id: ItemId,
    body: AbsenceReviewIn,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
) -> AbsenceOut:
    """已确认: raises a yellow signal (staff_absent, origin video) that enters the ledger."""
    try:
        confirm_absence(
            session,
            absence_id=absence_id,
            principal=principal,
            note=body.note,
            now=now,
            calendar=calendar,
            default_profile=settings.rule_profile,
        )
    except VideoError as exc:
        session.rollback()
        raise _http(exc) from exc
    session.commit()
    found = get_absence(session, absence_id=absence_id, within=principal.jurisdiction, now=now)
    assert found is not None
    return found


@router.post("/video/absences/{absence_id}/dismiss", response_model=AbsenceOut)
def dismiss(
    absence_id: ItemId, body: AbsenceReviewIn, principal: PrincipalDep, session: SessionDep, now: NowDep
) -> AbsenceOut:
    """已排除: needs the reason in `note`."""
    try:
        dismiss_absence(session, absence_id=absence_id, principal=principal, note=body.note, now=now)
    except VideoError as exc:
        session.rollback()
        raise _http(exc) from exc
    session.commit()
    found = get_absence(session, absence_id=absence_id, within=principal.jurisdiction, now=now)
    assert found is not None
    return found


def _evidence_error(
    request: Request, session: SessionDep, exc: VideoError, evidence_id: int
) -> HTTPException:
    if exc.status_code == 404 and session.get(Evidence, evidence_id) is not None:
        audit_refusal(request, action="refused.out_of_jurisdiction", detail=f"evidence {evidence_id}")
    return HTTPException(exc.status_code, exc.zh if exc.status_code == 403 else exc.detail, headers=NO_STORE)


@router.get("/evidence/{evidence_id}", response_model=EvidenceOut)
def evidence(
    request: Request,
    response: Response,
    evidence_id: ItemId,
    principal: PrincipalDep,
    session: SessionDep,
    now: NowDep,
) -> EvidenceOut:
    """A snapshot's metadata (inspectors of its jurisdiction); the image needs an approved grant."""
    response.headers.update(NO_STORE)
    try:
        item = evidence_for_supervisor(session, evidence_id=evidence_id, principal=principal, now=now)
    except VideoError as exc:
        raise _evidence_error(request, session, exc, evidence_id) from exc
    hall_code = session.scalar(select(Hall.code).where(Hall.id == item.hall_id))
    window_code = session.scalar(select(ServiceWindow.code).where(ServiceWindow.id == item.window_id))
    absence_ids = session.scalars(
        select(AbsenceEvidence.absence_id)
        .where(
            AbsenceEvidence.device_id == item.device_id,
            AbsenceEvidence.evidence_observation_id == item.observation_id,
        )
        .order_by(AbsenceEvidence.absence_id)
    )
    return EvidenceOut(
        id=item.id,
        hall_code=hall_code or "",
        window_code=window_code or "",
        camera=item.camera,
        reason=item.reason,
        taken_at=item.taken_at,
        width=item.width,
        height=item.height,
        sha256=item.sha256,
        size_bytes=item.size_bytes,
        expires_at=item.expires_at,
        absence_ids=list(absence_ids),
        origin="recording" if item.origin == "recording" else "live",
        media_type=item.media_type,
        capture=item.capture,
        duration_ms=item.duration_ms,
        may_view=may_view(session, evidence_id=item.id, principal=principal, now=now),
        image_url=f"/api/v1/evidence/{item.id}/image",
    )


@router.get(
    "/evidence/{evidence_id}/image",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "video/webm": {}}},
        403: {"description": "no approved grant"},
        410: {},
    },
)
def evidence_jpeg(
    request: Request,
    evidence_id: ItemId,
    principal: PrincipalDep,
    session: SessionDep,
    now: NowDep,
    download: Annotated[bool, Query(description="As a file: needs an evidence_export grant.")] = False,
) -> Response:
    """The JPEG (or a patrol clip's WebM), only with an approved evidence_view (or, to download,
    evidence_export) grant; audited."""
    try:
        item, jpeg = evidence_image(
            session, evidence_id=evidence_id, principal=principal, export=download, now=now
        )
    except VideoError as exc:
        session.rollback()
        raise _evidence_error(request, session, exc, evidence_id) from exc
    session.commit()  # the audit entry of this view
    headers = dict(NO_STORE)
    if download:
        suffix = "webm" if item.media_type == WEBM else "jpg"
        headers["Content-Disposition"] = f'attachment; filename="evidence-{item.id}.{suffix}"'
    return Response(content=jpeg, media_type=item.media_type, headers=headers)


__all__ = ["router"]

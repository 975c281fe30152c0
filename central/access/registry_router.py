"""Registry API: read regions, halls, departments, windows, staff and items; import a document.

It lives in access, not in the registry: the registry (its tree, and the jurisdictions cut from
it) sits below access, which gives every user a jurisdiction; this API needs a signed-in
principal, so it sits above both.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from central.access.deps import RegistryReader
from central.access.scope import RegistryImporter
from central.core.deps import NowDep, SessionDep
from central.registry import queries
from central.registry.importer import (
    ImportReport,
    Problem,
    RegistryConflictError,
    RegistryImportError,
    import_registry_text,
)
from central.registry.jurisdiction import is_deployment_wide
from central.registry.schemas import (
    DepartmentPublic,
    HallPublic,
    ItemPublic,
    RegionPublic,
    StaffPublic,
    WindowPublic,
)

logger = logging.getLogger(__name__)
router = APIRouter(tags=["registry"])
Code = Annotated[str | None, Query(max_length=40)]

MAX_IMPORT_BYTES = 5 * 1024 * 1024
IMPORT_MEDIA_TYPES = frozenset(
    {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "application/json", "text/plain"}
)


@router.get("/regions", response_model=list[RegionPublic])
def read_regions(session: SessionDep, _principal: RegistryReader) -> list[RegionPublic]:
    return queries.list_regions(session)


@router.get("/halls", response_model=list[HallPublic])
def read_halls(session: SessionDep, principal: RegistryReader) -> list[HallPublic]:
    return queries.list_halls(session, within=principal.jurisdiction)


@router.get("/departments", response_model=list[DepartmentPublic])
def read_departments(
    session: SessionDep, principal: RegistryReader, hall: Code = None
) -> list[DepartmentPublic]:
    return queries.list_departments(session, hall_code=hall, within=principal.jurisdiction)


@router.get("/windows", response_model=list[WindowPublic])
def read_windows(session: SessionDep, principal: RegistryReader, hall: Code = None) -> list[WindowPublic]:
    return queries.list_windows(session, hall_code=hall, within=principal.jurisdiction)


@router.get("/staff", response_model=list[StaffPublic])
def read_staff(session: SessionDep, principal: RegistryReader, department: Code = None) -> list[StaffPublic]:
    return queries.list_staff(session, department_code=department, within=principal.jurisdiction)


@router.get("/items", response_model=list[ItemPublic])
def read_items(session: SessionDep, _principal: RegistryReader, department: Code = None) -> list[ItemPublic]:
    return queries.list_items(session, department_code=department)


async def registry_file_body(request: Request) -> bytes:
    """The raw body (YAML or JSON; JSON is YAML), refused beyond MAX_IMPORT_BYTES."""
    media_type = request.headers.get("content-type", "text/plain").split(";")[0].strip().lower()
    if media_type not in IMPORT_MEDIA_TYPES:
        raise HTTPException(415, f"send the file as one of: {', '.join(sorted(IMPORT_MEDIA_TYPES))}")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_IMPORT_BYTES:
        raise HTTPException(413, f"a registry file holds at most {MAX_IMPORT_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():  # counted as it arrives: Content-Length may be absent or false
        body += chunk
        if len(body) > MAX_IMPORT_BYTES:
            raise HTTPException(413, f"a registry file holds at most {MAX_IMPORT_BYTES} bytes")
    return bytes(body)


def _rejected(problems: list[Problem]) -> JSONResponse:
    return JSONResponse(
        status_code=422,
        content={
            "detail": f"the registry file has {len(problems)} problem(s); nothing was written",
            "problems": [problem.as_dict() for problem in problems],
        },
    )


@router.post(
    "/registry/import",
    response_model=ImportReport,
    responses={
        409: {"description": "another import wrote the same records meanwhile; nothing was written"},
        413: {"description": "file larger than 5 MB"},
        415: {"description": "not YAML, JSON or plain text"},
        403: {"description": "needs registry.write with a region or the deployment scope"},
        422: {
            "description": "every problem in the file (entries outside your jurisdiction included), "
            "with place and line; nothing was written"
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {media: {"schema": {"type": "string"}} for media in sorted(IMPORT_MEDIA_TYPES)},
        }
    },
)
def import_registry(
    session: SessionDep,
    principal: RegistryImporter,
    now: NowDep,
    body: Annotated[bytes, Depends(registry_file_body)],
) -> ImportReport | JSONResponse:
    """Create or update regions, halls, departments, windows, staff, devices and items from one file.

    A region's administrator imports only inside its own subtree, and only a deployment-wide one
    chooses rule profiles: entries beyond that are problems (422) and nothing is written.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _rejected([Problem("(file)", None, f"not UTF-8 text (byte {exc.start})")])
    try:
        return import_registry_text(
            session,
            text=text,
            origin="api",
            actor=principal.actor,
            now=now,
            within=principal.jurisdiction,
            wide=is_deployment_wide(session, principal.jurisdiction),
        )
    except RegistryImportError as exc:
        return _rejected(exc.problems)
    except RegistryConflictError as exc:
        raise HTTPException(409, str(exc)) from exc

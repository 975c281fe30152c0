"""What the administration pages share: the permission gate and labels. Their forms carry the
per-session form token like every console form (central/access/csrf.py checks it app-wide)."""

from __future__ import annotations

import logging
from datetime import datetime

from fastapi import Request
from fastapi.responses import HTMLResponse

from central.access.deps import Principal
from central.access.refusals import audit_refusal
from central.access.roles import ROLE_LABELS, Permission
from central.registry.jurisdiction import ScopeKind
from central.web.forms import PageError
from central.web.templating import error_page

logger = logging.getLogger(__name__)

ADMIN_PERMISSION = (
    Permission.USERS_MANAGE
)  # the device-key API (central/devices/keys_router.py) asks the same

SCOPE_KIND_LABELS = {
    ScopeKind.DEPLOYMENT: "全部",
    ScopeKind.REGION: "地区",
    ScopeKind.HALL: "大厅",
    ScopeKind.DEPARTMENT: "部门",
}


def admin_refused(request: Request, principal: Principal) -> HTMLResponse | None:
    """A Chinese 403 page for a role without user administration; None for one with it."""
    if principal.may(ADMIN_PERMISSION):
        return None
    message = f"您的角色（{ROLE_LABELS[principal.role]}）无权管理用户与设备，请联系本级系统管理员。"
    audit_refusal(request, action="refused.forbidden", detail=f"{principal.role.value} may not manage users")
    return error_page(request, PageError(403, "无权访问", message), nav="admin")


def scope_text(kind: str, code: str) -> str:
    """`hall 510000-ZWFW` as a person reads it: 大厅 510000-ZWFW; the deployment scope: 全部."""
    scope_kind = ScopeKind(kind)
    if scope_kind is ScopeKind.DEPLOYMENT:
        return "全部（整个部署）"
    return f"{SCOPE_KIND_LABELS[scope_kind]} {code}"


def locked_now(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and locked_until > now

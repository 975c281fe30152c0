"""What the administration pages share: the permission gate, the per-session form token, labels.

CSRF. The session cookie is HttpOnly and SameSite=Strict (central/web/login.py), so a browser does
not send it with a request started from another *site*: a forged cross-site POST arrives signed out
and is sent to the sign-in page. That alone is not quite enough for these forms, because a "site" is
the registrable domain: another system on a sibling subdomain of the same government domain (say
`oa.sc.gov.cn` beside `hallwatch.sc.gov.cn`) is same-site, and its pages could post here with the
cookie attached. These forms create users and hand out device keys, so every one of them also
carries a token derived from the session secret (SHA-256 of it under a fixed label). Another origin
cannot read it (the cookie is HttpOnly and the same-origin policy hides our pages), it changes with
every sign-in, and it needs no server-side state; the secret cannot be recovered from it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime

from fastapi import Request
from fastapi.responses import HTMLResponse

from central.access.deps import SESSION_COOKIE, Principal
from central.access.jurisdiction import ScopeKind
from central.access.refusals import audit_refusal
from central.access.roles import ROLE_LABELS, Permission
from central.web.labels import PageError
from central.web.templating import error_page

logger = logging.getLogger(__name__)

CSRF_FIELD = "csrf_token"
ADMIN_PERMISSION = Permission.USERS_MANAGE  # the device-key API (device_router) asks the same

SCOPE_KIND_LABELS = {
    ScopeKind.DEPLOYMENT: "全部",
    ScopeKind.REGION: "地区",
    ScopeKind.HALL: "大厅",
    ScopeKind.DEPARTMENT: "部门",
}
DEVICE_KIND_LABELS = {"camera": "摄像机", "keypad": "评价器", "display": "显示屏", "edge": "边缘盒"}


def csrf_token(request: Request) -> str:
    """The form token of the signed-in session (empty when there is no session cookie)."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return ""
    return hashlib.sha256(b"hallwatch.console-form\x00" + raw.encode()).hexdigest()


def csrf_refused(request: Request, presented: str) -> HTMLResponse | None:
    """A 403 page when the posted token does not belong to this session; None when it does."""
    expected = csrf_token(request)
    if expected and hmac.compare_digest(expected, presented.strip()):
        return None
    logger.warning("console form posted to %s without a valid form token", request.url.path)
    message = "表单已失效或并非来自本系统的页面。请返回管理页面刷新后重试。"
    return error_page(request, PageError(403, "表单校验失败", message), nav="admin")


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

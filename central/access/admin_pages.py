"""Console pages (zh-CN) for users and device keys administration.

/console/admin/users is the permission review (SC-15): every user in one's jurisdiction with role,
scope, who granted it and when it was last confirmed, those overdue for review marked; a button
confirms another person's rights, and a form creates a user with a role one may grant, inside one's
own jurisdiction only (SC-14). /console/admin/devices (central/devices/admin_pages.py) lists the
devices of one's halls with their keys. Both need `users.manage`, as the API does.

Every change goes through the audited services (central/access/service.py, central/devices/keys.py); the
pages only read forms, call them, and show the outcome in Chinese. Each form carries the per-session
form token, checked app-wide (central/access/csrf.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError

from central.access.admin_forms import (
    admin_refused,
    locked_now,
    scope_text,
)
from central.access.console_session import PagePrincipal
from central.access.deps import Principal
from central.access.models import User
from central.access.passwords import WeakPasswordError
from central.access.roles import ROLE_LABELS, Role, can_grant
from central.access.service import (
    AccessError,
    GranterConfirmError,
    GrantError,
    JurisdictionGrantError,
    PostUserScopeError,
    RoleGrantError,
    SelfConfirmError,
    UserExistsError,
    UsernameError,
    UserNotFoundError,
    confirm_user,
    create_user,
    record_grant_refusal,
    review_users,
    scope_choices,
)
from central.core.deps import NowDep, SessionDep, SettingsDep
from central.registry.jurisdiction import ScopeError, ScopeKind
from central.web.templating import render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

USERS_URL = "/console/admin/users"
MAX_PASSWORD, MAX_DISPLAY_NAME, MAX_SCOPE = 200, 60, 60
FormText = Annotated[str, Form()]  # unconstrained here: checked below, so a bad value gets a Chinese page


@dataclass(frozen=True)
class NewUserForm:
    """What was typed into 新建用户, kept when the form comes back with an error (the password not)."""

    username: str = ""
    display_name: str = ""
    role: str = ""
    scope: str = ""


@dataclass(frozen=True)
class Outcome:
    """Something to tell the person above the list: `error` ones are alerts, the rest notices."""

    text: str
    error: bool = False


def _users_page(
    request: Request,
    principal: Principal,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    *,
    form: NewUserForm | None = None,
    errors: dict[str, str] | None = None,
    outcome: Outcome | None = None,
    about: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The review and the form; a notice `about` a user shows only if that user is listed, so a
    made-up link cannot make the page claim anything."""
    lines = review_users(
        session,
        within=principal.jurisdiction,
        now=now,
        review_after=timedelta(days=settings.review_after_days),
    )
    if about is not None and about not in {line.user.username for line in lines}:
        outcome = None
    context: dict[str, Any] = {
        "nav": "admin",
        "tab": "users",
        "principal": principal,
        "lines": lines,
        "due_count": sum(1 for line in lines if line.review_due),
        "roles": [(role.value, ROLE_LABELS[role]) for role in Role if can_grant(principal.role, role)],
        "scopes": scope_choices(session, within=principal.jurisdiction),
        "may_grant_everything": principal.jurisdiction.kind is ScopeKind.DEPLOYMENT,
        "form": form or NewUserForm(),
        "errors": errors or {},
        "outcome": outcome,
        "review_after_days": settings.review_after_days,
        "password_min_length": settings.password_min_length,
        "now": now,
        "scope_text": scope_text,
        "locked_now": locked_now,
    }
    return render(request, "admin_users.html", context, status_code=status)


@router.get("/console/admin/users", response_class=HTMLResponse)
def users_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    created: str | None = None,
    confirmed: str | None = None,
) -> HTMLResponse:
    """权限复核 and 新建用户. `created`/`confirmed` name the user just handled (after a redirect)."""
    if (refused := admin_refused(request, principal)) is not None:
        return refused
    outcome = None
    if created:
        outcome = Outcome(f"已创建用户“{created}”。")
    elif confirmed:
        outcome = Outcome(f"已确认“{confirmed}”的权限，{settings.review_after_days} 天后需再次复核。")
    return _users_page(
        request, principal, session, settings, now, outcome=outcome, about=created or confirmed
    )


@router.post("/console/admin/users", response_class=HTMLResponse, response_model=None)
def create_user_submit(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    username: FormText = "",
    password: FormText = "",
    display_name: FormText = "",
    role: FormText = "",
    scope: FormText = "",
) -> Response:
    """Create a user through `create_user` (audited); any refusal comes back on the form."""
    if (refused := admin_refused(request, principal)) is not None:
        return refused
    form = NewUserForm(username.strip(), display_name.strip(), role.strip(), scope.strip())
    errors = _missing_or_malformed(form, password)
    if errors:
        return _users_page(request, principal, session, settings, now, form=form, errors=errors, status=400)
    granter = session.get(User, principal.user_id)
    assert granter is not None  # the principal was read from this very row for this request
    try:
        create_user(
            session,
            username=form.username,
            password=password,
            role=Role(form.role),
            scope_code=form.scope,
            display_name=form.display_name or None,
            granted_by=granter,
            now=now,
            actor=principal.actor,
            min_password_length=settings.password_min_length,
        )
        session.commit()
    except (AccessError, ScopeError, WeakPasswordError, IntegrityError) as exc:
        session.rollback()
        if isinstance(exc, GrantError):  # an attempt to exceed one's rights is worth a record (SC-14)
            record_grant_refusal(
                session,
                actor=principal.actor,
                username=form.username,
                role=Role(form.role),
                scope_code=form.scope,
                why=exc,
                now=now,
            )
            session.commit()
        status, field, message = _explain(exc, form=form, principal=principal)
        errors = {field: message}
        return _users_page(
            request, principal, session, settings, now, form=form, errors=errors, status=status
        )
    logger.info("console: %s created user %s", principal.username, form.username)
    return RedirectResponse(f"{USERS_URL}?created={quote(form.username)}", status_code=303)


@router.post("/console/admin/users/{username}/confirm", response_class=HTMLResponse, response_model=None)
def confirm_submit(
    request: Request,
    username: str,
    principal: PagePrincipal,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    """确认权限: the rights are still needed (SC-15); never one's own."""
    if (refused := admin_refused(request, principal)) is not None:
        return refused
    try:
        confirm_user(
            session,
            username=username,
            within=principal.jurisdiction,
            confirmer_id=principal.user_id,
            now=now,
            actor=principal.actor,
        )
    except UserNotFoundError:
        outcome = Outcome(f"您的辖区内没有用户“{username[:64]}”。", error=True)
        return _users_page(request, principal, session, settings, now, outcome=outcome, status=404)
    except GranterConfirmError:
        text = "不能确认为您授权的账号的权限：须由辖区内另一位有用户管理权限的人员确认（SC-15）。"
        outcome = Outcome(text, error=True)
        return _users_page(request, principal, session, settings, now, outcome=outcome, status=403)
    except SelfConfirmError:
        text = "不能确认自己的权限：须由辖区内另一位有用户管理权限的人员确认（SC-15）。"
        outcome = Outcome(text, error=True)
        return _users_page(request, principal, session, settings, now, outcome=outcome, status=403)
    session.commit()
    return RedirectResponse(f"{USERS_URL}?confirmed={quote(username)}", status_code=303)


def _missing_or_malformed(form: NewUserForm, password: str) -> dict[str, str]:
    """What the form itself lacks, before asking the service (which checks everything else)."""
    errors: dict[str, str] = {}
    if not form.username:
        errors["username"] = "请填写用户名。"
    if not password:
        errors["password"] = "请填写密码。"
    elif len(password) > MAX_PASSWORD:
        errors["password"] = f"密码最多 {MAX_PASSWORD} 个字符。"
    if len(form.display_name) > MAX_DISPLAY_NAME:
        errors["display_name"] = f"姓名最多 {MAX_DISPLAY_NAME} 个字符。"
    if not form.role:
        errors["role"] = "请选择角色。"
    elif form.role not in {role.value for role in Role}:
        errors["role"] = f"没有“{form.role[:40]}”这个角色，请从列表中选择。"
    if not form.scope:
        errors["scope"] = "请填写辖区。"
    elif len(form.scope) > MAX_SCOPE:
        errors["scope"] = f"辖区代码最多 {MAX_SCOPE} 个字符。"
    return errors


def _explain(exc: Exception, *, form: NewUserForm, principal: Principal) -> tuple[int, str, str]:
    """(HTTP status, form field, Chinese message) for a refusal from `create_user`."""
    if isinstance(exc, RoleGrantError):
        mine, wanted = ROLE_LABELS[principal.role], ROLE_LABELS[Role(form.role)]
        return 403, "role", f"您的角色（{mine}）无权授予“{wanted}”：只能授予不超过自身权限的角色。"
    if isinstance(exc, JurisdictionGrantError):
        return (
            403,
            "scope",
            f"辖区“{form.scope}”不在您的辖区（{principal.jurisdiction.code}）之内：只能在本辖区内授权。",
        )
    if isinstance(exc, GrantError):
        return 403, "role", "无权授予该角色或辖区。"
    if isinstance(exc, UsernameError):
        return 400, "username", "用户名须为 3–64 位字母、数字、点、下划线或横线，并以字母或数字开头。"
    if isinstance(exc, UserExistsError | IntegrityError):
        return 400, "username", f"用户名“{form.username}”已被使用（不区分大小写），请换一个。"
    if isinstance(exc, PostUserScopeError):
        return 400, "scope", "岗位用户只能授予到一个部门：辖区请填写“department:部门代码”。"
    if isinstance(exc, WeakPasswordError):  # the one policy's own Chinese message
        return 400, "password", exc.zh
    if isinstance(exc, ScopeError):
        return (
            400,
            "scope",
            (
                f"辖区“{form.scope}”无效：没有这个地区、大厅或部门代码，或者它同时对应多个对象。"
                "请写成 region:代码、hall:代码 或 department:代码；* 表示整个部署。"
            ),
        )
    logger.warning("console: unexpected refusal creating %s: %s", form.username, exc)
    return 400, "username", "无法创建该用户，请检查填写的内容。"

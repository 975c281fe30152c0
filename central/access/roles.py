"""Roles (SC-15) and what each may do. A user can never grant more than they hold (SC-14)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SYSTEM_SUPERVISOR = "system_supervisor"  # 系统监管员
    INSPECTOR = "inspector"  # 电子监察员
    SYSADMIN = "sysadmin"  # 系统管理员
    POST_USER = "post_user"  # 岗位用户


class Permission(StrEnum):
    CASES_READ = "cases.read"
    CASES_WRITE = "cases.write"
    REGISTRY_READ = "registry.read"
    REGISTRY_WRITE = "registry.write"
    CALENDAR_WRITE = "calendar.write"
    USERS_MANAGE = "users.manage"
    AUDIT_READ = "audit.read"  # supervisors oversee the administrators' work (SC-16/17)
    APPROVALS_DECIDE = "approvals.decide"  # SC-18
    SIGNALS_SUPERVISE = "signals.supervise"  # raise, escalate, investigate and close signals (SZ-11..13)
    SIGNALS_RESPOND = "signals.respond"  # a department acknowledges and corrects its signals
    PATROLS = "patrols.patrol"  # see the supervising bodies' patrol plans and do the patrols (SC-6(1))


ROLE_LABELS = {
    Role.SYSTEM_SUPERVISOR: "系统监管员",
    Role.INSPECTOR: "电子监察员",
    Role.SYSADMIN: "系统管理员",
    Role.POST_USER: "岗位用户",
}

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SYSTEM_SUPERVISOR: frozenset(Permission),
    Role.SYSADMIN: frozenset(
        {
            Permission.CASES_READ,
            Permission.CASES_WRITE,
            Permission.REGISTRY_READ,
            Permission.REGISTRY_WRITE,
            Permission.CALENDAR_WRITE,
            Permission.USERS_MANAGE,
        }
    ),
    Role.INSPECTOR: frozenset(
        {
            Permission.CASES_READ,
            Permission.REGISTRY_READ,
            Permission.SIGNALS_SUPERVISE,
            Permission.APPROVALS_DECIDE,
            Permission.PATROLS,
        }
    ),
    Role.POST_USER: frozenset(
        {
            Permission.CASES_READ,
            Permission.CASES_WRITE,
            Permission.REGISTRY_READ,
            Permission.SIGNALS_RESPOND,
        }
    ),
}


def can_grant(granter: Role, role: Role) -> bool:
    """A role may be granted only by one holding every permission it carries."""
    return PERMISSIONS[role] <= PERMISSIONS[granter] and Permission.USERS_MANAGE in PERMISSIONS[granter]

"""Deployment-wide settings (SC-13/14): who may change what every jurisdiction runs on.

Calendar years, rule profiles and which profile a region runs, and registry records beyond one's
own region change the behaviour of every hall: only the deployment scope (`*`) or a region of level
province — the highest authority (SC-13) — may write them. This is the one rule; the API's routes
take it as a dependency (`require_deployment_wide`), services call
`central.registry.jurisdiction.is_deployment_wide`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException

from central.access.deps import Principal, PrincipalDep
from central.access.roles import Permission
from central.core.deps import SessionDep
from central.registry.jurisdiction import ScopeKind, is_deployment_wide

logger = logging.getLogger(__name__)

WIDE_SCOPE_TEXT = "the deployment (scope *) or a province region"

# Every dependency built here, so tests can find the routes that carry one (a new route is covered).
SCOPE_CHECKS: set[Callable[..., Principal]] = set()


def _refuse_role(principal: Principal, permission: Permission) -> None:
    if not principal.may(permission):
        raise HTTPException(403, f"your role ({principal.role.value}) may not {permission.value}")


def require_deployment_wide(permission: Permission) -> Callable[..., Principal]:
    """A dependency: the permission, held with a deployment-wide scope."""

    def check(principal: PrincipalDep, session: SessionDep) -> Principal:
        _refuse_role(principal, permission)
        if not is_deployment_wide(session, principal.jurisdiction):
            logger.info(
                "%s (scope %s) refused: %s", principal.username, principal.jurisdiction.code, permission
            )
            raise HTTPException(
                403,
                f"{permission.value} changes every jurisdiction: it needs {WIDE_SCOPE_TEXT}, "
                f"not scope {principal.jurisdiction.code}",
            )
        return principal

    SCOPE_CHECKS.add(check)
    return check


def require_region_or_wider(permission: Permission) -> Callable[..., Principal]:
    """A dependency: the permission with a region or the deployment scope; the service then keeps
    a region's writes inside its subtree (hall and department scopes manage no registry)."""

    def check(principal: PrincipalDep) -> Principal:
        _refuse_role(principal, permission)
        if principal.jurisdiction.kind not in (ScopeKind.DEPLOYMENT, ScopeKind.REGION):
            raise HTTPException(
                403,
                f"{permission.value} needs a region or the deployment scope, not {principal.jurisdiction.code}",
            )
        return principal

    SCOPE_CHECKS.add(check)
    return check


CalendarWriter = Annotated[Principal, Depends(require_deployment_wide(Permission.CALENDAR_WRITE))]
RegistryImporter = Annotated[Principal, Depends(require_region_or_wider(Permission.REGISTRY_WRITE))]

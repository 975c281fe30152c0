"""Who sees patrol plans: holders of `patrols.patrol` with a region (or the deployment) scope.

A hall or department is patrolled, never told when: the draw exists so nobody can prepare for it.
"""

from __future__ import annotations

import logging

from central.access.deps import Principal
from central.access.roles import Permission
from central.registry.jurisdiction import ScopeKind

logger = logging.getLogger(__name__)


def patrol_refusal(principal: Principal) -> str | None:
    """Why the principal may not see patrol plans (English, for the API), or None."""
    if not principal.may(Permission.PATROLS):
        return f"your role ({principal.role.value}) may not {Permission.PATROLS.value}"
    if principal.jurisdiction.kind not in (ScopeKind.DEPLOYMENT, ScopeKind.REGION):
        return "the patrol plan is for supervising bodies (a region scope), not for the halls patrolled"
    return None

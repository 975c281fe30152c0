"""The demo's accounts and its live hall: one account of each kind of jurisdiction, one password."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from central.access.roles import Role
from central.access.service import create_user
from central.demo.seed import DEMO_ACTOR

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "hallwatch-demo-2026"
DEMO_HALL = "510000-ZWFW"  # the hall whose windows get emulated keypads, a camera and an edge agent
# The province's second inspector patrols in the demo (`sichuan` has the seeded approvals and
# signals); both are the province body's inspectors, so each gets one of its centre's daily patrols.
DEMO_PATROLLER = "sichuan2"
# (username, role, scope): one of each kind of jurisdiction, to see what each may read.
DEMO_USERS = [
    ("admin", Role.SYSTEM_SUPERVISOR, "*"),
    ("sichuan", Role.INSPECTOR, "region:510000"),
    ("sichuan2", Role.INSPECTOR, "region:510000"),
    ("chengdu", Role.INSPECTOR, "region:510100"),
    ("jinjiang", Role.INSPECTOR, "region:510104"),
    ("clerk", Role.POST_USER, "department:510104-SCJG"),
]


def create_demo_users(session: Session, *, now: datetime, password: str = DEMO_PASSWORD) -> None:
    """Every demo account, with its audit entry. Not committed."""
    for username, role, scope in DEMO_USERS:
        create_user(
            session,
            username=username,
            password=password,
            role=role,
            scope_code=scope,
            display_name=None,
            granted_by=None,
            now=now,
            actor=DEMO_ACTOR,
        )

"""The 立案调查 form on a signal's page: opens an investigation of that signal.

The signal page (`central.signals.pages`) hands this action to the handler the app factory
registers (`app.state.signal_form_actions`): investigations sit above signals, so signals never
imports them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from central.access.deps import Principal
from central.investigations.schemas import InvestigationCreate
from central.investigations.service import InvestigationConflict, open_investigation
from central.signals.lifecycle import SignalTransitionError
from common.worktime import WorkCalendar

logger = logging.getLogger(__name__)


def investigate_from_form(
    session: Session,
    *,
    signal_id: int,
    form: Mapping[str, Any],
    principal: Principal,
    now: datetime,
    calendar: WorkCalendar,
    default_profile: str,
) -> None:
    """Does not commit. A conflict comes back as a SignalTransitionError: the page answers it (409)."""
    body = InvestigationCreate(
        signal_id=signal_id,
        assignee_scope=str(form.get("assignee_scope") or "").strip(),
        subject=str(form.get("subject") or "").strip() or None,
    )
    try:
        open_investigation(
            session,
            body=body,
            principal=principal,
            now=now,
            calendar=calendar,
            default_profile=default_profile,
        )
    except InvestigationConflict as exc:
        raise SignalTransitionError(str(exc)) from exc

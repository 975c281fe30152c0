"""Does the working-day calendar cover the coming days? Time limits are counted in working days (LAW
art. 82), and the calendar refuses a year nobody entered: a case accepted in December whose limit
runs into an uncovered January cannot be given its due date. The official data (the chinesecalendar
package) ends at the last year the State Council announced; later years are entered by an
administrator (`hallwatch calendar import`), so the doctor looks at both, as the calendar does."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from central.calendar.service import load_calendar
from central.core.clock import shanghai_date
from central.ops.doctor.limits import DoctorLimits
from central.ops.report import Check, Status

logger = logging.getLogger(__name__)

TITLE = "工作日历 working-day calendar"


def check_calendar(session: Session, *, now: datetime, limits: DoctorLimits) -> Check:
    today = shanghai_date(now)
    until = today + timedelta(days=limits.calendar_days)
    calendar = load_calendar(session)
    missing = calendar.missing_years(today.year, until.year)
    if not missing:
        summary = (
            f"覆盖今后 {limits.calendar_days} 天 covers the next {limits.calendar_days} days (至 {until})"
        )
        return Check("calendar", TITLE, Status.OK, summary)
    years = "、".join(str(y) for y in missing)
    first = max(today, date(missing[0], 1, 1))
    summary = (
        f"{years} 年未录入, {first} 起无法计算工作日 — no calendar for {years}: working days cannot be "
        f"counted from {first} (within the next {limits.calendar_days} days)"
    )
    hint = (
        f"按国务院办公厅公布的放假安排录入: hallwatch calendar import {missing[0]}.yaml (或升级 chinesecalendar "
        f"包) — enter the year from the State Council's notice (published each November), or upgrade the "
        f"chinesecalendar package once it has {missing[0]}; then hallwatch calendar check"
    )
    return Check("calendar", TITLE, Status.ERROR, summary, hint=hint)

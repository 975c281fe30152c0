"""Property: whatever a complainant's name, phone and text hold, a reader who does not handle the
complaint (the department complained about, an administrator, an inspector of the department only)
never gets the name whole (in the text neither), the phone number or an ID number from the text; the inspectors over the
hall get it all. Pure: complaint rows built in memory, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given, settings

from central.access.deps import Principal
from central.access.roles import Role
from central.complaints.models import Complaint
from central.complaints.queries import complaint_out
from central.core.actor import Actor
from central.registry.jurisdiction import Jurisdiction, ScopeKind
from central.registry.models import Department, Hall
from common.worktime import WorkCalendar
from common.worktime.official import official_years
from tests.public_data import chinese_names, id_numbers, mobile_numbers

CALENDAR = WorkCalendar(official_years())
HALL_ID, DEPT_ID = 7, 70


def principal(role: Role, kind: ScopeKind) -> Principal:
    halls = frozenset({HALL_ID})
    scope_id = DEPT_ID if kind is ScopeKind.DEPARTMENT else HALL_ID
    where = Jurisdiction(kind, scope_id, "x", frozenset({1}), halls, frozenset({DEPT_ID}))
    return Principal(user_id=1, username="u", role=role, jurisdiction=where, actor=Actor("user", "u"))


HANDLER = principal(Role.INSPECTOR, ScopeKind.HALL)
OTHERS = [
    principal(Role.POST_USER, ScopeKind.DEPARTMENT),
    principal(Role.SYSADMIN, ScopeKind.HALL),
    principal(Role.INSPECTOR, ScopeKind.DEPARTMENT),  # an inspector, but not over the hall
]


def complaint(name: str, phone: str, content: str) -> Complaint:
    at = datetime(2026, 9, 30, 2, tzinfo=UTC)
    return Complaint(
        id=1,
        number="TS20260930000001",
        channel="online",
        about="department",
        hall_id=HALL_ID,
        hall=Hall(id=HALL_ID, code="H", name="中心"),
        department_id=DEPT_ID,
        department=Department(id=DEPT_ID, code="D", name="部门"),
        anonymous=False,
        complainant_name=name,
        complainant_phone=phone,
        content=content,
        received_at=at,
        received_on=date(2026, 9, 30),
        decide_by=date(2026, 10, 13),
        status="received",
        updated_at=at,
        attachments=[],
    )


@settings(max_examples=60, deadline=None)
@given(name=chinese_names(), phone=mobile_numbers(), id_number=id_numbers(), other=mobile_numbers())
def test_only_the_handlers_read_a_complaint_unmasked(
    name: str, phone: str, id_number: str, other: str
) -> None:
    content = f"我是{name}，身份证{id_number}，电话{other}，窗口人员推诿。"
    row = complaint(name, phone, content)
    full = complaint_out(row, principal=HANDLER, today=date(2026, 10, 9), calendar=CALENDAR)
    assert (full.complainant_name, full.complainant_phone, full.content) == (name, phone, content)
    digits = "".join(c for c in phone if c.isdigit())
    for reader in OTHERS:
        masked = complaint_out(row, principal=reader, today=date(2026, 10, 9), calendar=CALENDAR)
        shown = masked.model_dump_json()
        assert masked.masked and not masked.handler
        assert masked.complainant_name != name and "*" in (masked.complainant_name or "")
        assert digits not in shown and id_number not in shown and name not in shown
        assert "".join(c for c in other if c.isdigit())[-8:] not in "".join(
            c for c in masked.content if c.isdigit()
        )

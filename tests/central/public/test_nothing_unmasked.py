"""Property (issue 16): whatever an applicant's name field holds — a generated Chinese name, a company,
an ID number, a mobile number, or a clerk's mix of them — no public answer (snapshot, stored stream
messages, kiosk timeline, notices) ever contains the name unmasked, the ID number or the phone number."""

from __future__ import annotations

import itertools

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from central.core.db import make_session_factory
from central.public.models import PublicFeedEvent
from tests.central.public.helpers import FEED, received
from tests.public_data import chinese_names, company_names, id_numbers, mobile_numbers

_numbers = itertools.count(1)

field_values: st.SearchStrategy[tuple[str, list[str]]] = st.one_of(
    chinese_names().map(lambda name: (name, [name])),
    company_names().map(lambda name: (name, [])),
    id_numbers().map(lambda number: (number, [number])),
    mobile_numbers().map(lambda number: (number, [number])),
    st.tuples(chinese_names(), id_numbers(), mobile_numbers()).map(
        lambda t: (f"{t[0]} 身份证{t[1]} 电话{t[2]}", [t[0], t[1], t[2]])
    ),
)


def secrets_absent(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret!r} leaked"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=field_values, notice_phone=mobile_numbers(), notice_id=id_numbers())
def test_no_public_answer_holds_an_unmasked_name_id_or_phone(
    client: TestClient,
    anon: TestClient,
    db: Engine,
    registry: dict[str, int],
    value: tuple[str, list[str]],
    notice_phone: str,
    notice_id: str,
) -> None:
    name, secrets = value
    case_no = f"P-{next(_numbers):05d}"
    pushed = client.post(
        "/api/v1/cases/events",
        json=[received(f"{case_no}-r", case_no, "2026-11-27T09:30:00+08:00", applicant=name[:100])],
    )
    assert pushed.status_code == 200, pushed.text
    password = pushed.json()["results"][0]["query_password"]
    notice = client.post(
        "/api/v1/halls/510000-ZWFW/notices", json={"text": f"咨询 {notice_phone}，证件 {notice_id}"}
    )
    assert notice.status_code == 201
    secrets = [*secrets, notice_phone, notice_id]
    answers = [
        anon.get(f"{FEED}/progress").text,
        anon.post("/api/v1/public/cases/lookup", json={"case_no": case_no, "password": password}).text,
        notice.text,
    ]
    with make_session_factory(db)() as session:
        answers.extend(session.scalars(select(PublicFeedEvent.data)).all())
    for answer in answers:
        secrets_absent(answer, secrets)

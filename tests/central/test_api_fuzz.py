"""Schemathesis drives every API operation with generated input: no input may cause a 500."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.specs.openapi import unregister_string_format
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from central.app import create_app
from central.core.actor import Actor
from central.core.config import Settings
from central.core.types import EARLIEST_DAY, LATEST_DAY
from central.devices.keys import issue_key
from central.registry.models import Device
from tests.central.test_extreme_dates import Spec
from tests.conftest import ROOT_PASSWORD, FakeClock, make_user

EXAMPLES_PER_OPERATION = 8  # bounded: the suite stays fast; CI runs it on both databases


def test_no_input_causes_a_server_error(db: Engine, settings: Settings, clock: FakeClock, registry) -> None:
    make_user(db, "root", password=ROOT_PASSWORD, now=clock())
    app = create_app(_docs_on(settings), engine=db, clock=clock)
    failures, statuses, operations = _fuzz(app, _bearer(app))
    assert operations >= 20
    assert len(statuses) >= 2 * operations  # every operation was really exercised
    assert {200, 422} <= set(statuses)
    assert failures == []


# Dates at the extremes of their formats (issue #13 item 4): the first and last days the formats can
# write, at the wall times and offsets that push them past date.min/max when converted, and the days
# just outside the system's range.
EXTREME_DAYS = st.sampled_from(
    [date.min, date.max, EARLIEST_DAY - timedelta(days=1), LATEST_DAY + timedelta(days=1)]
)
EXTREME_MOMENTS = st.sampled_from(
    [
        "0001-01-01T00:00:00",
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00+23:59",
        "9999-12-31T23:59:59",
        "9999-12-31T23:59:59-12:00",
        "9999-12-31T23:59:59.999999-23:59",
        f"{EARLIEST_DAY - timedelta(days=1)}T23:59:59+08:00",
        f"{LATEST_DAY + timedelta(days=1)}T00:00:00Z",
    ]
)
EXTREME_EXAMPLES = 25  # per operation that takes a date: enough to meet each extreme of each field


@pytest.fixture
def extreme_formats() -> Iterator[None]:
    schemathesis.openapi.format("date", EXTREME_DAYS.map(date.isoformat))
    schemathesis.openapi.format("date-time", EXTREME_MOMENTS)
    yield
    unregister_string_format("date")
    unregister_string_format("date-time")


def test_dates_at_the_extremes_cause_no_server_error(
    db: Engine, settings: Settings, clock: FakeClock, registry, extreme_formats: None
) -> None:
    make_user(db, "root", password=ROOT_PASSWORD, now=clock())
    app = create_app(_docs_on(settings), engine=db, clock=clock)
    headers = {**_bearer(app), **_device_key(db, registry, clock)}
    failures, statuses, operations = _fuzz(app, headers, examples=EXTREME_EXAMPLES, only_dates=True)
    assert operations >= 10  # every operation that takes a date
    assert 422 in statuses
    assert failures == []


def _docs_on(settings: Settings) -> Settings:
    return settings.model_copy(update={"api_docs": True})  # /openapi.json is off by default


def _bearer(app: Any) -> dict[str, str]:
    with TestClient(app) as client:
        token = client.post("/api/v1/auth/token", data={"username": "root", "password": ROOT_PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def _device_key(db: Engine, registry: dict[str, int], clock: FakeClock) -> dict[str, str]:
    """A key of an edge agent of the provincial hall, for the device endpoints."""
    with Session(db) as session:
        device = Device(code="EDGE-F", kind="edge", name="edge", hall_id=registry["hall"])
        session.add(device)
        session.flush()
        issued = issue_key(session, device=device, now=clock(), issued_by=None, actor=Actor("cli", "tests"))
        session.commit()
    return {"X-Device-Key": issued.key}


def _fuzz(
    app: Any, headers: dict[str, str], *, examples: int = EXAMPLES_PER_OPERATION, only_dates: bool = False
) -> tuple[list[str], list[int], int]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    dated = {(field.method, field.path) for field in Spec(app.openapi()).fields()}
    failures: list[str] = []
    statuses: list[int] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if only_dates and (operation.method.upper(), operation.path) not in dated:
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            statuses.append(response.status_code)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}"
                )

        run()
    return failures, statuses, operations

"""Schemathesis drives every API operation with generated input: no input may cause a 500."""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine

from central.app import create_app
from central.core.config import Settings
from tests.conftest import ROOT_PASSWORD, FakeClock, make_user

EXAMPLES_PER_OPERATION = 8  # bounded: the suite stays fast; CI runs it on both databases


def test_no_input_causes_a_server_error(db: Engine, settings: Settings, clock: FakeClock, registry) -> None:
    make_user(db, "root", password=ROOT_PASSWORD, now=clock())
    docs_on = settings.model_copy(update={"api_docs": True})  # /openapi.json is off by default
    app = create_app(docs_on, engine=db, clock=clock)
    with TestClient(app) as client:
        token = client.post("/api/v1/auth/token", data={"username": "root", "password": ROOT_PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    statuses: list[int] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
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
    assert operations >= 20
    assert len(statuses) >= 2 * operations  # every operation was really exercised
    assert {200, 422} <= set(statuses)
    assert failures == []

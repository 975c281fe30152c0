from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from central.approvals.evidence import set_evidence_locator
from central.video.evidence import locate_evidence
from tests.central.approvals.helpers import add_county_department, add_people, county_ev, push
from tests.conftest import SignedIn


@pytest.fixture(autouse=True)
def evidence_named_by_hall() -> Iterator[None]:
    """These tests file evidence requests that name the hall in their payload (the path taken when
    no evidence store is plugged in): the video module's locator is taken out for each test and put
    back after (tests/central/video covers requests for stored evidence)."""
    set_evidence_locator(None)
    yield
    set_evidence_locator(locate_evidence)


@pytest.fixture
def people(client: TestClient, registry: dict[str, int], session: Session, db) -> dict[str, SignedIn]:
    """The county department and the people of PEOPLE; case K1 (received, accepted, undertaken)."""
    add_county_department(session, registry["county_hall"])
    signed = add_people(db)
    push(
        client,
        county_ev("k1", "K1", "received", "2026-11-02T09:00:00+08:00", applicant_name="王五"),
        county_ev("k2", "K1", "accepted", "2026-11-02T09:30:00+08:00"),
        county_ev("k3", "K1", "undertaken", "2026-11-03T10:00:00+08:00"),
    )
    return signed

"""Shared pieces for signal and investigation tests: a county department, users, headers."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.roles import Role
from central.registry.models import Department, Hall
from tests.conftest import ROOT_PASSWORD, login, make_user

COUNTY_DEPT = "JJSCJ"


def add_county_department(session: Session) -> int:
    """The registry fixture's county hall gets a department (signals need one to be about)."""
    hall = session.scalars(select(Hall).where(Hall.code == "510104-ZWFW")).one()
    department = Department(code=COUNTY_DEPT, name="锦江区市场监管局", hall_id=hall.id)
    session.add(department)
    session.commit()
    return department.id


def headers_for(client: TestClient, db: Engine, username: str, role: Role, scope: str) -> dict[str, str]:
    make_user(db, username, role=role, scope=scope, password=ROOT_PASSWORD)
    return login(client, username, ROOT_PASSWORD)

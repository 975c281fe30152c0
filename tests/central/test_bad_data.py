"""Values the database itself refuses are bad input (a 4xx that says why), never a 500.

Found by schemathesis on PostgreSQL: a NUL character in a sign-in name reached the users query, and
PostgreSQL refuses NUL in text. SQLite stores and compares it, so there the name is simply unknown.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine


@pytest.mark.parametrize("username", ["\x00", "ad\x00min"])
def test_a_nul_character_is_refused_clearly_on_every_database(
    client: TestClient, db: Engine, username: str
) -> None:
    answer = client.post("/api/v1/auth/token", data={"username": username, "password": "x"})
    if db.dialect.name == "postgresql":
        assert answer.status_code == 422
        assert "NUL" in answer.json()["detail"]
    else:
        assert answer.status_code == 401
    assert client.get("/api/v1/cases", params={"case_no": "A\x00"}).status_code < 500

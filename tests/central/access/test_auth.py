"""Sign-in, tokens, lockout, and that nothing but the public endpoints answers anonymously."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from central.app import create_app
from tests.conftest import make_user

PASSWORD = "correct-horse-battery-2026"
PUBLIC = {"/healthz", "/api/v1/auth/token", "/console/login", "/"}
PUBLIC_API = "/api/v1/public/"  # the hall screens' feed, catalog and kiosk lookup: no sign-in (issue 16)


def token_for(client: TestClient, username: str, password: str = PASSWORD) -> str:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def test_every_api_endpoint_but_the_public_ones_refuses_anonymous_calls(anon: TestClient, settings) -> None:
    spec = create_app(settings).openapi()
    checked = 0
    for template, operations in spec["paths"].items():
        if template in PUBLIC or template.startswith(PUBLIC_API) or not template.startswith("/api/"):
            continue
        path = template.replace("{case_no}", "C1").replace("{year}", "2027").replace("{key}", "x")
        path = path.replace("{username}", "someone").replace("{code}", "D1").replace("{key_id}", "k")
        path = path.replace("{hall_code}", "H1")
        for method in operations:
            r = anon.request(method.upper(), path)
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers.get("www-authenticate") == "Bearer" or path.startswith("/api/v1/device/")
            checked += 1
    assert checked >= 15


def test_console_pages_redirect_anonymous_users_to_sign_in(anon: TestClient) -> None:
    r = anon.get("/console/cases?light=red", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/console/login?next=%2Fconsole%2Fcases%3Flight%3Dred"


def test_token_login_me_and_logout(anon: TestClient, db) -> None:
    make_user(db, "alice")
    token = token_for(anon, "alice")
    headers = {"Authorization": f"Bearer {token}"}
    me = anon.get("/api/v1/auth/me", headers=headers).json()
    assert me["username"] == "alice" and me["scope_code"] == "*"
    assert anon.post("/api/v1/auth/logout", headers=headers).status_code == 204
    r = anon.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


@pytest.mark.parametrize(
    "token", ["forged-token", "", "Bearer", "a" * 5000, "' OR 1=1 --", "eyJhbGciOiJub25lIn0.e30."]
)
def test_forged_tokens_are_refused(anon: TestClient, token: str) -> None:
    assert anon.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_token_expires(anon: TestClient, db, clock) -> None:
    make_user(db, "alice", now=clock())
    headers = {"Authorization": f"Bearer {token_for(anon, 'alice')}"}
    assert anon.get("/api/v1/auth/me", headers=headers).status_code == 200
    clock.advance(hours=8, seconds=1)
    r = anon.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_wrong_password_then_lockout_then_unlock(anon: TestClient, db, clock) -> None:
    make_user(db, "alice", now=clock())
    for _ in range(5):
        r = anon.post("/api/v1/auth/token", data={"username": "alice", "password": "wrong-password-x"})
        assert r.status_code == 401
    r = anon.post("/api/v1/auth/token", data={"username": "alice", "password": PASSWORD})
    assert r.status_code == 423 and "locked" in r.json()["detail"]
    clock.advance(minutes=15, seconds=1)
    assert (
        anon.post("/api/v1/auth/token", data={"username": "alice", "password": PASSWORD}).status_code == 200
    )


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(anon: TestClient, db) -> None:
    make_user(db, "alice")
    unknown = anon.post("/api/v1/auth/token", data={"username": "nobody", "password": PASSWORD})
    wrong = anon.post("/api/v1/auth/token", data={"username": "alice", "password": "wrong-password-x"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_sign_ins_and_refused_sign_ins_are_audited(anon: TestClient, db, clock, session) -> None:
    from sqlalchemy import select

    from central.audit.models import AuditEntry

    make_user(db, "alice", now=clock())
    for _ in range(5):
        anon.post("/api/v1/auth/token", data={"username": "alice", "password": "wrong-password-x"})
    anon.post("/api/v1/auth/token", data={"username": "mallory", "password": "guess-guess-guess"})
    clock.advance(minutes=16)
    token_for(anon, "alice")
    actions = [(e.actor, e.action) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    # The failures of one source are one refusal entry per window, the rest counted (test_refusals).
    assert actions[-2:] == [("anonymous:testclient", "refused.sign_in"), ("user:alice", "auth.signed_in")]

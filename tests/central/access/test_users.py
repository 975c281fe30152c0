"""Granting rights downward only (SC-14), the permission review (SC-15), and the shell bootstrap."""

from __future__ import annotations

import subprocess
import sys

from fastapi.testclient import TestClient

from central.access.roles import Role
from tests.conftest import make_user

PASSWORD = "correct-horse-battery-2026"


def headers_for(client: TestClient, db, username: str, role: Role, scope: str) -> dict[str, str]:
    make_user(db, username, role=role, scope=scope)
    r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def new_user(username: str, role: str, scope: str) -> dict[str, str]:
    return {"username": username, "password": PASSWORD, "role": role, "scope": scope}


def test_grants_go_downward_and_never_exceed_what_one_holds(anon: TestClient, db, registry) -> None:
    city_admin = headers_for(anon, db, "cityadmin", Role.SYSTEM_SUPERVISOR, "region:510100")
    ok = anon.post(
        "/api/v1/users", json=new_user("countyinsp", "inspector", "region:510104"), headers=city_admin
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["granted_by"] == "cityadmin"
    # A technician holds no approval or signal rights, so cannot hand them out (SC-16/17).
    technician = headers_for(anon, db, "citytech", Role.SYSADMIN, "region:510100")
    refused = anon.post(
        "/api/v1/users", json=new_user("countyinsp2", "inspector", "region:510104"), headers=technician
    )
    assert refused.status_code == 403 and "cannot grant" in refused.json()["detail"]
    upward = anon.post(
        "/api/v1/users", json=new_user("provinsp", "inspector", "region:510000"), headers=city_admin
    )
    assert upward.status_code == 403 and "jurisdiction" in upward.json()["detail"]
    more = anon.post("/api/v1/users", json=new_user("sup", "sysadmin", "region:510104"), headers=technician)
    assert more.status_code == 201, more.text
    inspector = headers_for(anon, db, "insp", Role.INSPECTOR, "region:510000")
    r = anon.post("/api/v1/users", json=new_user("x1", "inspector", "region:510104"), headers=inspector)
    assert r.status_code == 403


def test_bad_user_requests(client: TestClient, registry) -> None:
    cases = [
        (new_user("ab", "inspector", "*"), 422),  # username too short
        (new_user("alice", "inspector", "region:999999"), 422),
        (new_user("alice", "overlord", "*"), 422),
        ({**new_user("alice", "inspector", "*"), "password": "short"}, 422),
        (new_user("alice", "post_user", "region:510000"), 422),  # post users belong to a department
        ({**new_user("alice", "inspector", "*"), "admin": True}, 422),
    ]
    for body, status in cases:
        assert client.post("/api/v1/users", json=body).status_code == status, body
    assert client.post("/api/v1/users", json=new_user("alice", "inspector", "*")).status_code == 201
    assert client.post("/api/v1/users", json=new_user("alice", "inspector", "*")).status_code == 422


def test_permission_review_lists_who_holds_what_and_confirms(client: TestClient, registry, clock) -> None:
    client.post("/api/v1/users", json=new_user("alice", "inspector", "region:510104"))
    clock.advance(days=91)
    listed = {u["username"]: u for u in client.get("/api/v1/users").json()}
    assert listed["alice"]["review_due"] is True and listed["alice"]["scope_code"] == "510104"
    confirmed = client.post("/api/v1/users/alice/confirm").json()
    assert confirmed["review_due"] is False
    assert client.post("/api/v1/users/root/confirm").status_code == 403  # nobody confirms themselves


def test_cli_creates_the_first_administrator(settings, anon: TestClient) -> None:
    env = {"HALLWATCH_DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin"}
    base = [
        sys.executable,
        "-m",
        "central.cli",
        "users",
        "create",
        "--username",
        "admin",
        "--role",
        "sysadmin",
    ]
    cmd = [*base, "--scope", "*", "--password-file", "-"]

    def run(args: list[str], stdin: str = f"{PASSWORD}\n") -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, env=env, input=stdin, capture_output=True, text=True, timeout=120)

    # The password never comes on the command line, where the process list and history show it.
    on_line = run([*base, "--scope", "*", "--password", PASSWORD])
    assert on_line.returncode == 2 and "No such option: --password" in on_line.stderr
    no_terminal = run([*base, "--scope", "*"], stdin="")
    assert no_terminal.returncode == 2 and "--password-file" in no_terminal.stderr
    weak = run(cmd, stdin="1234567890\n")
    assert weak.returncode == 2 and "sequence" in weak.stderr and "连续" in weak.stderr
    result = run(cmd)
    assert result.returncode == 0, result.stderr
    again = run([*cmd[:6], "ADMIN", *cmd[7:]])  # the same name in capitals
    assert again.returncode == 2 and "already exists" in again.stderr
    r = anon.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})
    assert r.status_code == 200
    by_env = subprocess.run(
        [*base[:6], "scripted", *base[7:], "--scope", "*"],
        env={**env, "HALLWATCH_NEW_PASSWORD": PASSWORD},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert by_env.returncode == 0, by_env.stderr

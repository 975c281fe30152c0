"""One password policy on every way a password is set (API, users page; the CLI in test_users),
usernames unique ignoring case down to the database, and no pair of administrators vouching for
each other in the permission review (SC-15)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.access.models import User
from central.access.passwords import check_strength
from central.access.roles import Role
from central.core.config import Settings
from tests.central.access.test_admin_pages import USERS, console_sign_in, form_token
from tests.conftest import FakeClock, make_user

PASSWORD = "correct-horse-battery-2026"
# (rule, a password it refuses, the page's Chinese message) — every rule of the policy.
WEAK = [
    ("blank", " " * 12, "密码不能全是空格"),
    ("short", "x7#kq", "密码太短：至少需要 10 个字符"),
    ("repeated", "aaaaaaaaaa", "同一个字符重复"),
    ("sequence", "1234567890", "连续的数字、字母或键盘序列"),
    ("sequence", "0987654321", "连续的数字、字母或键盘序列"),
    ("sequence", "QWERTYUIOP", "连续的数字、字母或键盘序列"),
    ("common", "Password123", "过于常见"),
    ("common", "woaini1314", "过于常见"),
    ("username", "newperson-2026!", "密码不能包含用户名"),
]


def test_the_policy_names_each_rule() -> None:
    for rule, password, zh in WEAK:
        with pytest.raises(ValueError) as caught:
            check_strength(password, username="newperson")
        assert getattr(caught.value, "rule", None) == rule and zh in caught.value.zh  # type: ignore[attr-defined]
    check_strength(PASSWORD, username="newperson")
    with pytest.raises(ValueError, match="at least 16"):
        check_strength(PASSWORD[:15], username="newperson", min_length=16)


@pytest.mark.parametrize(("rule", "password", "zh"), WEAK)
def test_weak_passwords_are_refused_by_the_api_and_the_page(
    client: TestClient,
    anon: TestClient,
    db: Engine,
    registry,
    clock: FakeClock,
    rule: str,
    password: str,
    zh: str,
) -> None:
    body = {"username": "newperson", "password": password, "role": "inspector", "scope": "*"}
    r = client.post("/api/v1/users", json=body)
    assert r.status_code == 422 and "password" in r.json()["detail"], (rule, r.text)
    page = console_sign_in(anon, "root")
    form = {**body, "display_name": "", "csrf_token": form_token(page)}
    r = page.post(USERS, data=form)
    assert r.status_code == 400 and zh in r.text, rule


def test_the_minimum_length_is_a_setting(db: Engine, settings: Settings, clock: FakeClock, registry) -> None:
    from central.app import create_app
    from tests.conftest import ROOT_PASSWORD, login

    make_user(db, "root", password=ROOT_PASSWORD, now=clock())
    strict = settings.model_copy(update={"password_min_length": 30})
    with TestClient(create_app(strict, engine=db, clock=clock)) as c:
        headers = login(c, "root", ROOT_PASSWORD)
        body = {"username": "newperson", "password": PASSWORD, "role": "inspector", "scope": "*"}
        r = c.post("/api/v1/users", json=body, headers=headers)
        assert r.status_code == 422 and "at least 30" in r.json()["detail"]


def test_usernames_are_unique_ignoring_case(
    client: TestClient, anon: TestClient, db: Engine, session: Session, registry, clock: FakeClock
) -> None:
    body = {"username": "ADMIN", "password": PASSWORD, "role": "inspector", "scope": "*"}
    assert client.post("/api/v1/users", json={**body, "username": "admin"}).status_code == 201
    r = client.post("/api/v1/users", json=body)
    assert r.status_code == 422 and "already exists" in r.json()["detail"]
    page = console_sign_in(anon, "ROOT")  # sign-in ignores case too
    r = page.post(USERS, data={**body, "display_name": "", "csrf_token": form_token(page)})
    assert r.status_code == 400 and "已被使用" in r.text
    # …down to the database: a unique index on lower(username), on SQLite and PostgreSQL alike.
    row = {"display_name": None, "password_hash": "x", "role": "inspector", "scope_kind": "region"}
    row |= {"scope_id": 1, "active": True, "failed_logins": 0, "created_at": clock(), "confirmed_at": clock()}
    with pytest.raises(IntegrityError):
        session.execute(insert(User).values(username="Admin", **row))
    session.rollback()


def test_an_administrator_cannot_confirm_the_one_who_granted_their_rights(
    anon: TestClient, db: Engine, registry, clock: FakeClock
) -> None:
    """The first administrator creates a second; the second cannot then confirm the first (API and
    page alike), nor themselves; a third person can."""
    make_user(db, "first", role=Role.SYSTEM_SUPERVISOR, scope="*", now=clock())
    first = console_sign_in(anon, "first")
    second = {"username": "second", "password": PASSWORD, "role": "system_supervisor", "scope": "*"}
    created = first.post(USERS, data={**second, "display_name": "", "csrf_token": form_token(first)})
    assert created.status_code == 200 and "已创建用户“second”" in created.text
    with TestClient(anon.app) as other:
        r = other.post("/api/v1/auth/token", data={"username": "second", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        api = other.post("/api/v1/users/first/confirm", headers=headers)
        assert api.status_code == 403 and "granted theirs" in api.json()["detail"]
        assert other.post("/api/v1/users/SECOND/confirm", headers=headers).status_code == 403
        page = console_sign_in(other, "second")
        r = page.post(f"{USERS}/first/confirm", data={"csrf_token": form_token(page)})
        assert r.status_code == 403 and "不能确认为您授权的账号的权限" in r.text
    make_user(db, "third", role=Role.SYSTEM_SUPERVISOR, scope="*", now=clock())
    with TestClient(anon.app) as third:
        r = third.post("/api/v1/auth/token", data={"username": "third", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert third.post("/api/v1/users/first/confirm", headers=headers).status_code == 200

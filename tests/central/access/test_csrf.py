"""CSRF (issue #13 item 1): every state-changing route that the console's session cookie can
authenticate — each console form and each API call, walked from the app's routes — refuses the
cookie without the session's form token (403, a Chinese page on the console, audited), lets it
through with the token, and refuses requests from another origin."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from central.access.auth_first import PAGE, USER, api_routes, credential_kind
from central.access.csrf import CSRF_HEADER
from central.app import CREDENTIALS, create_app
from central.audit.models import AuditEntry
from central.core.config import Settings
from tests.conftest import ROOT_PASSWORD, FakeClock, form_token, make_user

BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
CSRF_PAGE = "表单校验失败"
TEMPLATE_DIRS = sorted((Path(__file__).resolve().parents[3] / "central").glob("**/templates"))


def cookie_routes(app: FastAPI) -> list[tuple[str, str, str]]:
    """(method, concrete path, credential kind) of every state-changing route a cookie can sign."""
    found = []
    for route in api_routes(app):
        kind = credential_kind(route, CREDENTIALS)
        if kind not in (USER, PAGE):
            continue
        path = re.sub(r"\{[^}]+\}", "1", route.path_format)
        found.extend((method, path, kind) for method in sorted(route.methods) if method in BODY_METHODS)
    return found


@pytest.fixture
def console(
    db: Engine, settings: Settings, clock: FakeClock, registry: dict[str, int]
) -> Iterator[TestClient]:
    """Signed in on the console (the session cookie only) as the deployment's system supervisor."""
    make_user(db, "root", password=ROOT_PASSWORD, now=clock())
    with TestClient(create_app(settings, engine=db, clock=clock)) as c:
        r = c.post(
            "/console/login", data={"username": "root", "password": ROOT_PASSWORD}, follow_redirects=False
        )
        assert r.status_code == 303 and "hallwatch_session" in c.cookies
        yield c


def refused_as_csrf(response, kind: str) -> bool:  # type: ignore[no-untyped-def]
    if response.status_code != 403:
        return False
    if kind == PAGE:
        return CSRF_PAGE in response.text and response.headers["content-type"].startswith("text/html")
    return "form token" in response.json()["detail"]


def test_the_walk_covers_every_console_form_and_the_api(console: TestClient) -> None:
    routes = {(m, p) for m, p, _ in cookie_routes(console.app)}  # type: ignore[arg-type]
    assert len(routes) >= 35
    for expected in (
        ("POST", "/console/approvals/1/1"),
        ("POST", "/console/signals/new"),
        ("POST", "/console/investigations/1/report"),
        ("POST", "/console/ratings/followups/1/1"),
        ("POST", "/console/admin/users"),
        ("POST", "/console/admin/devices/1/keys"),
        ("POST", "/console/video/evidence/1/request"),
        ("POST", "/api/v1/registry/import"),
        ("POST", "/api/v1/devices/1/keys"),
        ("DELETE", "/api/v1/devices/1/keys/1"),
        ("POST", "/api/v1/users/1/confirm"),
    ):
        assert expected in routes


def test_every_cookie_signed_state_change_is_refused_without_the_token(
    console: TestClient, session: Session
) -> None:
    before = session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)) or 0
    for method, path, kind in cookie_routes(console.app):  # type: ignore[arg-type]
        for body in ({"data": {"note": "x"}}, {"json": {}}):
            r = console.request(method, path, **body)  # type: ignore[arg-type]
            assert refused_as_csrf(r, kind), (method, path, r.status_code, r.text[:200])
        wrong = console.request(method, path, data={"csrf_token": "0" * 64})
        assert refused_as_csrf(wrong, kind), (method, path, "wrong token")
        if kind == PAGE:  # a page reads only the cookie: a bearer header beside it changes nothing
            r = console.request(method, path, data={}, headers={"authorization": "Bearer x"})
            assert refused_as_csrf(r, kind), (method, path, "bearer beside the cookie")
    refusals = session.scalars(
        select(AuditEntry).where(AuditEntry.seq > before, AuditEntry.action == "refused.csrf")
    ).all()
    assert refusals and all(entry.actor == "user:root" for entry in refusals)


def test_cross_origin_form_and_text_posts_with_only_the_cookie_are_refused_on_the_api(
    console: TestClient,
) -> None:
    api = [(m, p) for m, p, kind in cookie_routes(console.app) if kind == USER]  # type: ignore[arg-type]
    assert len(api) >= 20
    for method, path in api:
        for headers, content in (
            ({"content-type": "application/x-www-form-urlencoded"}, b"role=sysadmin&scope=*"),
            ({"content-type": "text/plain"}, b'{"kind": "case_event_void"}'),
        ):
            forged = {**headers, "origin": "https://oa.example.gov.cn"}
            r = console.request(method, path, content=content, headers=forged)
            assert refused_as_csrf(r, USER), (method, path, r.status_code, r.text[:200])
            # the same without Origin (an old browser, a stripped header): the token still decides
            r = console.request(method, path, content=content, headers=headers)
            assert refused_as_csrf(r, USER), (method, path, r.status_code)


def test_with_the_token_every_route_gets_past_the_check(console: TestClient) -> None:
    token = form_token(console)
    for method, path, kind in cookie_routes(console.app):  # type: ignore[arg-type]
        if path.endswith("/logout"):
            continue  # it would sign this client out: accepted below
        if kind == PAGE:
            r = console.request(method, path, data={"csrf_token": token}, follow_redirects=False)
        else:
            r = console.request(method, path, json={}, headers={CSRF_HEADER: token})
        assert r.status_code < 500 and not refused_as_csrf(r, kind), (method, path, r.status_code)


def test_forms_and_api_calls_with_the_token_do_their_work(console: TestClient, session: Session) -> None:
    token = form_token(console, "/console/admin/users")
    form = {
        "username": "alice",
        "password": "another-long-passphrase-9",
        "display_name": "王丽",
        "role": "inspector",
        "scope": "region:510000",
        "csrf_token": token,
    }
    created = console.post("/console/admin/users", data=form, follow_redirects=False)
    assert created.status_code == 303 and created.headers["location"].endswith("created=alice")
    issued = console.post("/console/admin/devices/EDGE-P/keys", data={"csrf_token": token})
    assert issued.status_code in (200, 404) and not refused_as_csrf(issued, PAGE)
    signed_out = console.post("/api/v1/auth/logout", headers={CSRF_HEADER: token})
    assert signed_out.status_code == 204
    assert console.get("/console/cases", follow_redirects=False).status_code == 303  # the session ended


def test_another_origin_is_refused_even_with_the_token(console: TestClient) -> None:
    token = form_token(console)
    data = {"csrf_token": token, "reason_code": "other_minor", "reason": "x"}
    for header in ({"origin": "https://oa.example.gov.cn"}, {"referer": "https://oa.example.gov.cn/x"}):
        r = console.post("/console/signals/new", data=data, headers=header)
        assert refused_as_csrf(r, PAGE), header
    same = console.post("/console/signals/new", data=data, headers={"origin": "http://testserver"})
    assert same.status_code != 403


def test_bearer_token_calls_need_no_form_token(client: TestClient) -> None:
    r = client.post("/api/v1/auth/logout")
    assert r.status_code == 204


def test_every_post_form_in_every_template_carries_the_token() -> None:
    forms = 0
    for directory in TEMPLATE_DIRS:
        for template in directory.glob("*.html"):
            text = template.read_text(encoding="utf-8")
            for match in re.finditer(r"<form\b[^>]*>(.*?)</form>", text, flags=re.S | re.I):
                if re.search(r'method="post"', match.group(0)[:300], flags=re.I):
                    forms += 1
                    assert "{{ csrf_input() }}" in match.group(1), f"{template.name}: {match.group(0)[:120]}"
    assert forms >= 15

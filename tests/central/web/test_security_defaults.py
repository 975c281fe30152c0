"""Headers and defaults (issue #13 item 8): browser-facing headers on every answer, pages that fit
their Content-Security-Policy, the session cookie's Secure flag over TLS (directly or behind a
trusted proxy), the API docs off unless the deployment turns them on, and credentials checked
before any request body is read — walked over every route that takes one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from central.access.auth_first import DEVICE, PAGE, USER, api_routes, credential_kind
from central.app import CREDENTIALS, create_app
from central.core.config import Settings
from central.core.security_headers import CONTENT_SECURITY_POLICY
from central.ratings.chart import DayPoint, trend_svg
from tests.conftest import ROOT_PASSWORD, FakeClock, make_user

CENTRAL = Path(__file__).resolve().parents[3] / "central"
SMALL_BODY_LIMIT = 1024


def app_client(db: Engine, settings: Settings, clock: FakeClock, **changes: object) -> TestClient:
    return TestClient(create_app(settings.model_copy(update=changes), engine=db, clock=clock))


@pytest.fixture
def anon_small(db: Engine, settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    with app_client(db, settings, clock, max_body_bytes=SMALL_BODY_LIMIT) as c:
        yield c


def test_every_kind_of_answer_carries_the_headers(anon: TestClient) -> None:
    for path in ("/console/login", "/static/console.css", "/healthz", "/api/v1/cases", "/no/such/page"):
        r = anon.get(path, follow_redirects=False)
        assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert r.headers["x-frame-options"] == "DENY", path
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "same-origin", path
    assert (
        "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
        and "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    )


def test_no_template_needs_inline_script_or_style() -> None:
    """The policy allows only 'self': an inline script, <style> or style="" would be refused."""
    templates = sorted(CENTRAL.glob("**/templates/*.html"))
    assert len(templates) >= 20
    for template in templates:
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template.name
        assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=", text, flags=re.I), template.name
    chart = trend_svg([DayPoint(date(2026, 11, d), 5, 1, 0.8) for d in range(1, 8)], label="趋势")
    assert "style" not in chart and 'fill="' in chart  # matplotlib's styles became SVG attributes


def test_api_docs_are_off_unless_the_deployment_turns_them_on(
    anon: TestClient, db: Engine, settings: Settings, clock: FakeClock
) -> None:
    assert Settings.model_fields["api_docs"].default is False
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert anon.get(path).status_code == 404, path
    with app_client(db, settings, clock, api_docs=True) as docs:
        assert docs.get("/openapi.json").json()["info"]["title"] == "hallwatch central"
        page = docs.get("/docs")
        assert page.status_code == 200 and docs.get("/redoc").status_code == 200
        # Swagger UI comes from a CDN with inline script: no CSP there, the other headers stay
        assert "content-security-policy" not in page.headers and page.headers["x-frame-options"] == "DENY"


def secure(cookie: str) -> bool:
    return re.search(r";\s*secure\b", cookie, flags=re.I) is not None


def _sign_in(client: TestClient, **headers: str) -> str:
    r = client.post(
        "/console/login",
        data={"username": "root", "password": ROOT_PASSWORD},
        headers=headers,
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return r.headers["set-cookie"]


def test_the_session_cookie_is_secure_over_tls_and_behind_a_trusted_proxy(
    db: Engine, settings: Settings, clock: FakeClock
) -> None:
    make_user(db, "root", password=ROOT_PASSWORD, now=clock())
    forwarded = {"x-forwarded-proto": "https"}
    with app_client(db, settings, clock) as plain:
        cookie = _sign_in(plain)
        assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
        assert not secure(cookie)
        assert not secure(_sign_in(plain, **forwarded))  # nobody's X-Forwarded-Proto is believed
    with TestClient(create_app(settings, engine=db, clock=clock), base_url="https://testserver") as tls:
        assert secure(_sign_in(tls))
    # TestClient's peer is "testclient": trusted by name here, as a proxy's address would be
    with app_client(db, settings, clock, forwarded_allow_ips="testclient") as proxied:
        assert secure(_sign_in(proxied, **forwarded))
        assert not secure(_sign_in(proxied))
    with app_client(db, settings, clock, forwarded_allow_ips="10.0.0.1") as other:
        assert not secure(_sign_in(other, **forwarded))


def _body_routes(client: TestClient) -> list[tuple[str, str, str]]:
    found = []
    for route in api_routes(client.app):  # type: ignore[arg-type]
        kind = credential_kind(route, CREDENTIALS)
        if kind is None:
            continue
        path = re.sub(r"\{[^}]+\}", "1", route.path_format)
        found.extend(
            (m, path, kind) for m in sorted(route.methods) if m in ("POST", "PUT", "PATCH", "DELETE")
        )
    return found


def test_no_body_is_read_before_the_credential_is_checked(anon_small: TestClient) -> None:
    routes = _body_routes(anon_small)
    assert {kind for _, _, kind in routes} == {USER, PAGE, DEVICE} and len(routes) >= 40
    big = b"[" + b"1," * SMALL_BODY_LIMIT + b"1]"
    for method, path, kind in routes:
        for content, headers in (
            (b'{"not json', {"content-type": "application/json"}),
            (big, {"content-type": "application/json"}),
            (b"%%%", {"content-type": "application/x-www-form-urlencoded"}),
            (b"{}", {"content-type": "application/json", "authorization": "Bearer not-a-token"}),
            (big, {"content-type": "application/json", "x-device-key": "hwk_bogus"}),
        ):
            r = anon_small.request(method, path, content=content, headers=headers, follow_redirects=False)
            if kind == PAGE:
                assert r.status_code == 303 and r.headers["location"].startswith("/console/login"), (path, r)
            else:
                assert r.status_code == 401, (method, path, r.status_code, r.text[:120])


def test_a_signed_in_caller_still_gets_413_and_422(
    anon_small: TestClient, db: Engine, clock: FakeClock
) -> None:
    make_user(db, "root", password=ROOT_PASSWORD, now=clock())
    token = anon_small.post("/api/v1/auth/token", data={"username": "root", "password": ROOT_PASSWORD})
    auth = {"authorization": f"Bearer {token.json()['access_token']}", "content-type": "application/json"}
    big = anon_small.post("/api/v1/signals", content=b"[" + b"1," * SMALL_BODY_LIMIT + b"1]", headers=auth)
    assert big.status_code == 413
    malformed = anon_small.post("/api/v1/signals", content=b'{"not json', headers=auth)
    assert malformed.status_code == 422

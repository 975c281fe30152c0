"""Sign-in gives nothing away and cannot be used to shut a person out: one argon2 verification on
every path (counted, not timed), unknown usernames answered exactly as known ones through the
lockout, the lock held per (username, source) so the real user elsewhere still signs in, and the
per-account delay short. Both sign-in routes, the API's and the console's, walk the same paths."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from central.access import passwords
from central.access.models import SignInFailure, User
from central.app import create_app
from central.core.config import Settings
from tests.conftest import FakeClock, make_user

PASSWORD = "correct-horse-battery-2026"
WRONG = "wrong-password-x"
SIGN_IN_ROUTES = ["/api/v1/auth/token", "/console/login"]


class CountingHasher(PasswordHasher):
    """The real argon2 hasher, counting its verifications."""

    verifications = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        CountingHasher.verifications += 1
        return super().verify(hash, password)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> type[CountingHasher]:
    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    CountingHasher.verifications = 0
    return CountingHasher


def client_from(db: Engine, settings: Settings, clock: FakeClock, address: str) -> TestClient:
    return TestClient(create_app(settings, engine=db, clock=clock), client=(address, 40000))


@pytest.fixture
def attacker(db: Engine, settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    with client_from(db, settings, clock, "203.0.113.9") as c:
        yield c


@pytest.fixture
def owner(db: Engine, settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    with client_from(db, settings, clock, "10.20.30.40") as c:
        yield c


def attempt(client: TestClient, route: str, username: str, password: str) -> tuple[int, str]:
    r = client.post(route, data={"username": username, "password": password}, follow_redirects=False)
    body = r.json()["detail"] if route.startswith("/api") and r.status_code != 200 else ""
    if not route.startswith("/api") and r.status_code != 303:
        body = r.text.split('role="alert"', 1)[-1][:200]  # the page's error line
    return r.status_code, body


@pytest.mark.parametrize("route", SIGN_IN_ROUTES)
def test_every_sign_in_path_runs_exactly_one_password_verification(
    route: str, attacker: TestClient, db: Engine, session: Session, clock: FakeClock, counted
) -> None:
    make_user(db, "alice", now=clock())
    make_user(db, "retired", now=clock())
    session.execute(update(User).where(User.username == "retired").values(active=False))
    session.commit()
    ok = 303 if route == "/console/login" else 200
    paths = [
        ("alice", PASSWORD, ok),  # right
        ("alice", WRONG, 401),  # wrong password
        ("nobody", PASSWORD, 401),  # unknown user
        ("retired", PASSWORD, 401),  # inactive user
    ]
    paths += [("nobody", WRONG, 401)] * 4 + [("nobody", WRONG, 423)]  # …until this source is locked out
    for username, password, status in paths:
        before = counted.verifications
        assert attempt(attacker, route, username, password)[0] == status, (username, password)
        assert counted.verifications == before + 1, f"{username}/{status}: not one verification"


@pytest.mark.parametrize("route", SIGN_IN_ROUTES)
def test_an_unknown_username_is_answered_exactly_as_a_known_one(
    route: str, db: Engine, settings: Settings, clock: FakeClock
) -> None:
    make_user(db, "alice", now=clock())
    answers = {}
    for username in ("alice", "nobody"):
        with client_from(db, settings, clock, f"198.51.100.{len(answers) + 1}") as c:
            answers[username] = [attempt(c, route, username, WRONG) for _ in range(7)]
    assert answers["alice"] == answers["nobody"]
    assert [status for status, _ in answers["alice"]] == [401] * 5 + [423] * 2


@pytest.mark.parametrize("route", SIGN_IN_ROUTES)
def test_anonymous_failures_lock_out_their_source_not_the_real_user(
    route: str, attacker: TestClient, owner: TestClient, db: Engine, clock: FakeClock
) -> None:
    make_user(db, "alice", now=clock())
    ok = 303 if route == "/console/login" else 200
    for _ in range(5):
        assert attempt(attacker, route, "alice", WRONG)[0] == 401
    assert attempt(attacker, route, "alice", PASSWORD)[0] == 423  # the guesser stops, right guess or not
    assert attempt(owner, route, "ALICE", PASSWORD)[0] == ok  # the real person elsewhere (any case)
    clock.advance(minutes=15, seconds=1)
    assert attempt(attacker, route, "alice", PASSWORD)[0] == ok  # the lock is over after its time


def account_wait(session: Session, username: str, clock: FakeClock) -> int:
    """Seconds the next attempt on `username` must wait, read from the throttle's own row."""
    session.expire_all()
    row = session.scalar(
        select(SignInFailure).where(SignInFailure.username_key == username, SignInFailure.source == "*")
    )
    if row is None or row.locked_until is None or row.locked_until <= clock():
        return 0
    return round((row.locked_until - clock()).total_seconds())


def test_guesses_spread_over_many_sources_wait_seconds_not_minutes(
    db: Engine, settings: Settings, session: Session, clock: FakeClock, owner: TestClient
) -> None:
    make_user(db, "alice", now=clock())
    waits = []
    for n in range(settings.account_delay_after + 7):  # one guess from each of many addresses
        with client_from(db, settings, clock, f"192.0.2.{n + 1}") as c:
            assert attempt(c, "/api/v1/auth/token", "alice", WRONG)[0] == 401
        waits.append(account_wait(session, "alice", clock))
        if waits[-1]:  # meanwhile everyone, the real user included, waits those few seconds
            r = owner.post("/api/v1/auth/token", data={"username": "alice", "password": PASSWORD})
            assert r.status_code == 429 and int(r.headers["Retry-After"]) == waits[-1]
            clock.advance(seconds=waits[-1])
    first = settings.account_delay_after - 1
    assert waits[:first] == [0] * first
    assert waits[first:] == [1, 2, 4, 8, 16, 32, 60, 60]  # doubling, never past the short maximum
    assert (
        owner.post("/api/v1/auth/token", data={"username": "alice", "password": PASSWORD}).status_code == 200
    )
    assert account_wait(session, "alice", clock) == 0
    # The right password cleared the account's count: the next mistake is not delayed.
    assert attempt(owner, "/api/v1/auth/token", "alice", WRONG)[0] == 401
    assert account_wait(session, "alice", clock) == 0


def test_stale_failures_start_again(attacker: TestClient, db: Engine, clock: FakeClock) -> None:
    make_user(db, "alice", now=clock())
    for _ in range(4):
        assert attempt(attacker, "/api/v1/auth/token", "alice", WRONG)[0] == 401
    clock.advance(minutes=15, seconds=1)
    for _ in range(4):  # four more, long after: not five in a row
        assert attempt(attacker, "/api/v1/auth/token", "alice", WRONG)[0] == 401
    assert attempt(attacker, "/api/v1/auth/token", "alice", PASSWORD)[0] == 200

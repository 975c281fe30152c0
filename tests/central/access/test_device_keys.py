"""Device keys: scoped to the device's hall, rotatable, and a revoked key is refused at once."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from central.registry.models import Device


@pytest.fixture
def devices(registry, session: Session) -> None:
    session.add(Device(code="EDGE-P", kind="edge", name="省中心边缘盒", hall_id=registry["hall"]))
    session.add(Device(code="EDGE-K", kind="edge", name="锦江区边缘盒", hall_id=registry["county_hall"]))
    session.commit()


def key_for(client: TestClient, device: str) -> str:
    r = client.post(f"/api/v1/devices/{device}/keys")
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def test_device_reads_its_own_hall_only(client: TestClient, anon: TestClient, devices) -> None:
    key = key_for(client, "EDGE-P")
    headers = {"X-Device-Key": key}
    me = anon.get("/api/v1/device/me", headers=headers).json()
    assert me == {"device": "EDGE-P", "kind": "edge", "hall": "510000-ZWFW", "key_id": key.split("_")[1]}
    windows = anon.get("/api/v1/device/halls/510000-ZWFW/windows", headers=headers)
    assert [w["code"] for w in windows.json()] == ["W01"]
    # a key from another hall: as if the hall did not exist
    assert anon.get("/api/v1/device/halls/510104-ZWFW/windows", headers=headers).status_code == 404
    other = {"X-Device-Key": key_for(client, "EDGE-K")}
    assert anon.get("/api/v1/device/halls/510000-ZWFW/windows", headers=other).status_code == 404


def test_revoked_and_rotated_keys_are_refused_at_once(client: TestClient, anon: TestClient, devices) -> None:
    first = key_for(client, "EDGE-P")
    assert anon.get("/api/v1/device/me", headers={"X-Device-Key": first}).status_code == 200
    rotated = client.post("/api/v1/devices/EDGE-P/keys/rotate").json()["key"]
    assert anon.get("/api/v1/device/me", headers={"X-Device-Key": first}).status_code == 401
    assert anon.get("/api/v1/device/me", headers={"X-Device-Key": rotated}).status_code == 200
    key_id = rotated.split("_")[1]
    assert client.delete(f"/api/v1/devices/EDGE-P/keys/{key_id}").status_code == 204
    assert anon.get("/api/v1/device/me", headers={"X-Device-Key": rotated}).status_code == 401
    assert client.delete(f"/api/v1/devices/EDGE-P/keys/{key_id}").status_code == 404


@pytest.mark.parametrize(
    "presented",
    ["", "hwk_", "hwk_0123456789abcdef_" + "x" * 43, "Bearer abc", "hwk_zz_" + "a" * 43, "a" * 199],
)
def test_malformed_or_unknown_keys(anon: TestClient, devices, presented: str) -> None:
    assert anon.get("/api/v1/device/me", headers={"X-Device-Key": presented}).status_code == 401


def test_device_keys_do_not_open_user_endpoints(client: TestClient, anon: TestClient, devices) -> None:
    key = key_for(client, "EDGE-P")
    assert anon.get("/api/v1/cases", headers={"X-Device-Key": key}).status_code == 401
    assert anon.get("/api/v1/cases", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_keys_are_issued_only_within_jurisdiction(anon: TestClient, db, devices) -> None:
    from central.access.roles import Role
    from tests.conftest import make_user

    make_user(db, "countyadmin", role=Role.SYSADMIN, scope="region:510104")
    token = anon.post(
        "/api/v1/auth/token", data={"username": "countyadmin", "password": "correct-horse-battery-2026"}
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert anon.post("/api/v1/devices/EDGE-K/keys", headers=headers).status_code == 201
    assert anon.post("/api/v1/devices/EDGE-P/keys", headers=headers).status_code == 404


def test_a_device_reads_centrals_clock(client: TestClient, anon: TestClient, devices, clock) -> None:
    key = key_for(client, "EDGE-P")
    answer = anon.get("/api/v1/device/time", headers={"X-Device-Key": key})
    assert answer.status_code == 200
    assert datetime.fromisoformat(answer.json()["now"]) == clock()
    assert anon.get("/api/v1/device/time", headers={"X-Device-Key": "hwk_nope_nope"}).status_code == 401

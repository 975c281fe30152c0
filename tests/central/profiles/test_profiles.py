"""Rule profiles: shipped files validate strictly; a region override changes the rules for its halls."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from central.core.config import Settings
from central.registry.models import Region
from common.profiles import ProfileError, shipped_profiles
from common.profiles.loader import parse_profile
from tests.central.cases.helpers import ev
from tests.conftest import add_county_item


def test_three_profiles_ship() -> None:
    assert set(shipped_profiles()) == {"sichuan-2011", "shenzhen-2007", "qitaihe-2008"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("key: x1\nversion: 1\nname: n\nsources: [SC-5]\nlights: {yelow_remaining_workdays: 3}\n", "yelow"),
        (
            "key: x1\nversion: 1\nname: n\nsources: [SC-5]\nlights: {yellow_remaining_workdays: -1}\n",
            "greater than or equal",
        ),
        ("key: x1\nversion: 0\nname: n\nsources: [SC-5]\n", "version"),
        ("key: x1\nversion: 1\nname: n\nsources: []\n", "cite at least one"),
        ("key: Bad Key\nversion: 1\nname: n\nsources: [SC-5]\n", "key"),
        ("key: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_profiles_are_refused(text: str, needle: str) -> None:
    with pytest.raises(ProfileError) as info:
        parse_profile(text, origin="test.yaml")
    assert needle in str(info.value)


def test_unknown_deployment_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown rule profile"):
        Settings(rule_profile="atlantis-1999")


def test_region_override_gives_its_halls_the_shenzhen_green_warning(
    client: TestClient, registry, session: Session, clock
) -> None:
    session.get(Region, registry["county_region"]).rule_profile = "shenzhen-2007"  # type: ignore[union-attr]
    session.commit()
    item = add_county_item(session, registry)
    batch = [
        ev("p1", "P1", "accepted", "2026-09-25T09:00:00+08:00"),
        ev("c1", "K1", "accepted", "2026-09-25T09:00:00+08:00", hall_code="510104-ZWFW", item_code=item),
    ]
    assert client.post("/api/v1/cases/events", json=batch).status_code == 200
    as_of = {"as_of": "2026-10-15T10:00:00+08:00"}  # the promised due date of both
    province, county = (client.get(f"/api/v1/cases/{n}", params=as_of).json() for n in ("P1", "K1"))
    assert province["profile"] == "sichuan-2011" and province["green_warning"] is False
    assert county["profile"] == "shenzhen-2007" and county["green_warning"] is True
    listed = {c["case_no"]: c for c in client.get("/api/v1/cases", params=as_of).json()["items"]}
    assert listed["K1"]["green_warning"] is True and listed["P1"]["green_warning"] is False

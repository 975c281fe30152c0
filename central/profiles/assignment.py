"""Which rule profile applies where: the deployment default, overridden per region (inherited down)."""

from __future__ import annotations

import logging
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.registry.models import Hall, Region
from common.profiles.loader import get_profile
from common.profiles.schema import RuleProfile

logger = logging.getLogger(__name__)


def region_profile_keys(session: Session, *, default_key: str) -> dict[int, str]:
    """Profile key for every region, resolving overrides up the tree."""
    regions = {
        rid: (parent, key)
        for rid, parent, key in session.execute(select(Region.id, Region.parent_id, Region.rule_profile))
    }

    def resolve(region_id: int | None) -> str:
        seen = 0
        while region_id is not None and seen < 64:  # bound the walk: a cycle must not hang
            parent_id, key = regions.get(region_id, (None, None))
            if key:
                return key
            region_id, seen = parent_id, seen + 1
        return default_key

    return {region_id: resolve(region_id) for region_id in regions}


def hall_profile_keys(session: Session, *, default_key: str) -> dict[int, str]:
    """Profile key for every hall, resolving region overrides up the tree."""
    by_region = region_profile_keys(session, default_key=default_key)
    return {
        hall_id: by_region.get(region_id, default_key)
        for hall_id, region_id in session.execute(select(Hall.id, Hall.region_id))
    }


def profile_for_hall(session: Session, *, hall_id: int, default_key: str) -> RuleProfile:
    return get_profile(hall_profile_keys(session, default_key=default_key).get(hall_id, default_key))


def halls_by_profile(session: Session, *, default_key: str) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for hall_id, key in hall_profile_keys(session, default_key=default_key).items():
        groups[key].append(hall_id)
    return dict(groups)

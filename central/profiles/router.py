"""Rule profile API: which profiles ship, and what each holds."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from central.core.deps import SettingsDep
from common.profiles.loader import ProfileError, get_profile, shipped_profiles
from common.profiles.schema import RuleProfile

router = APIRouter(prefix="/profiles", tags=["profiles"])


@router.get("", response_model=list[RuleProfile])
def list_profiles() -> list[RuleProfile]:
    return list(shipped_profiles().values())


@router.get("/default", response_model=RuleProfile)
def deployment_profile(settings: SettingsDep) -> RuleProfile:
    return get_profile(settings.rule_profile)


@router.get("/{key}", response_model=RuleProfile)
def read_profile(key: str) -> RuleProfile:
    try:
        return get_profile(key)
    except ProfileError as exc:
        raise HTTPException(404, str(exc)) from exc

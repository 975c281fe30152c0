"""Load the rule profiles shipped in the package (and extra ones from a folder)."""

from __future__ import annotations

import logging
from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from common.profiles.schema import RuleProfile

logger = logging.getLogger(__name__)

DEFAULT_PROFILE_KEY = "sichuan-2011"


class ProfileError(ValueError):
    """A profile file is invalid or a requested profile does not exist."""


def parse_profile(text: str, *, origin: str) -> RuleProfile:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"{origin}: not valid YAML: {exc}") from exc
    try:
        return RuleProfile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        )
        raise ProfileError(f"{origin}: {problems}") from exc


@cache
def shipped_profiles() -> dict[str, RuleProfile]:
    found: dict[str, RuleProfile] = {}
    folder = resources.files("common.profiles") / "data"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        profile = parse_profile(entry.read_text(encoding="utf-8"), origin=entry.name)
        if profile.key in found:
            raise ProfileError(f"{entry.name}: duplicate profile key {profile.key!r}")
        found[profile.key] = profile
    return found


def load_profile_file(path: Path) -> RuleProfile:
    return parse_profile(path.read_text(encoding="utf-8"), origin=str(path))


def get_profile(key: str) -> RuleProfile:
    profiles = shipped_profiles()
    if key not in profiles:
        raise ProfileError(f"unknown rule profile {key!r}; known: {', '.join(sorted(profiles))}")
    return profiles[key]

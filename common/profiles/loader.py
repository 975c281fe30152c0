"""Load the rule profiles shipped in the package (and extra ones from a folder)."""

from __future__ import annotations

import logging
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import ValidationError

from common.configfile import format_loc
from common.findings import CHECK_ERROR, Loc
from common.profiles.schema import RuleProfile
from common.profiles.scoring import RULE_TYPES

logger = logging.getLogger(__name__)

DEFAULT_PROFILE_KEY = "sichuan-2011"
RULE_TYPE_TAGS = frozenset(get_args(model.model_fields["type"].annotation)[0] for model in RULE_TYPES)


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
        problems = "; ".join(problem for err in exc.errors() for problem in _problems(err))
        raise ProfileError(f"{origin}: {problems}") from exc


def _problems(error: Any) -> list[str]:
    """One "place: message" per error, and per finding of a `verify_*` check, at its place."""
    loc = _untagged(tuple(error["loc"]))
    if error["type"] == CHECK_ERROR:
        return [f"{_place((*loc, *relative))}: {message}" for relative, message in error["ctx"]["findings"]]
    message = error["msg"]
    if loc and loc[-1] == "cap" and error["type"] == "greater_than":
        message += " (a cap is a magnitude: 5 means at most −5 for a deduction)"
    return [f"{_place(loc)}: {message}"]


def _untagged(loc: Loc) -> Loc:
    """pydantic puts a scoring rule's `type` in the loc (rules.0.run.points); the file has none."""
    return tuple(
        part
        for index, part in enumerate(loc)
        if not (index and isinstance(loc[index - 1], int) and part in RULE_TYPE_TAGS)
    )


def _place(loc: Loc) -> str:
    return format_loc(loc) if loc else "(top)"


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

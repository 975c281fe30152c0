"""Rule profiles (Sichuan 2011, Shenzhen 2007, 七台河): versioned YAML shipped in the package."""

from common.profiles.loader import DEFAULT_PROFILE_KEY, ProfileError, get_profile, shipped_profiles
from common.profiles.schema import RuleProfile
from common.profiles.scoring import ScoringRules

__all__ = [
    "DEFAULT_PROFILE_KEY",
    "ProfileError",
    "RuleProfile",
    "ScoringRules",
    "get_profile",
    "shipped_profiles",
]

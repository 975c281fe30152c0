"""Password hashing with argon2 (argon2-cffi), rehashing when parameters change, and the one password
policy that the API, the users page and the CLI all apply (`check_strength`).

The policy is a few explicit rules rather than a strength score (zxcvbn was considered: its score
would refuse or admit passwords for reasons a clerk cannot be told in Chinese, and its feedback is
English only): long enough, not blank, not one repeated character, not a keyboard or counting run,
not one of the passwords every guessing list starts with, not the username.
"""

from __future__ import annotations

import logging

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger(__name__)

# OWASP's recommended argon2id settings trade memory for passes: 46 MiB × 1, 19 MiB × 2, 12 MiB × 3,
# 9 MiB × 4, 7 MiB × 5. Their smallest product of the two, and their least memory, bound ours.
OWASP_MIN_MEMORY_PASSES_KIB = 7168 * 5
OWASP_MIN_MEMORY_KIB = 7168


class HashCost(BaseSettings):
    """argon2id's cost, read once per process from the environment (`HALLWATCH_PASSWORD_HASH_*`).
    Every central instance of a deployment must use the same: a hash made with other parameters is
    made again at its owner's next sign-in. The default is argon2-cffi's (RFC 9106's low-memory
    setting); a smaller machine may go down to OWASP's minimum, never below."""

    model_config = SettingsConfigDict(env_prefix="HALLWATCH_PASSWORD_HASH_", extra="forbid")

    memory_kib: int = Field(
        default=65536, ge=OWASP_MIN_MEMORY_KIB, le=4 * 1024 * 1024, description="Memory per hash, KiB."
    )
    time_cost: int = Field(default=3, ge=1, le=10, description="Passes over that memory.")
    parallelism: int = Field(default=4, ge=1, le=16, description="Lanes (threads) per hash.")

    @model_validator(mode="after")
    def _verify(self) -> HashCost:
        verify_owasp_minimum(self)
        return self


def verify_owasp_minimum(cost: HashCost) -> None:
    if cost.memory_kib * cost.time_cost < OWASP_MIN_MEMORY_PASSES_KIB:
        raise ValueError(
            f"argon2 cost {cost.memory_kib} KiB × {cost.time_cost} passes is below OWASP's minimum "
            f"({OWASP_MIN_MEMORY_PASSES_KIB} KiB × passes; e.g. 19456 KiB × 2)"
        )


_cost = HashCost()
_hasher = PasswordHasher(
    time_cost=_cost.time_cost, memory_cost=_cost.memory_kib, parallelism=_cost.parallelism
)
# A fixed hash to verify against when the user does not exist, so timing does not tell.
_DUMMY = _hasher.hash("hallwatch-no-such-user")

MIN_PASSWORD_LENGTH = 10  # the default of settings.password_min_length

# Runs a person types instead of choosing: counting, the alphabet, keyboard rows (both directions).
_RUNS = (
    "01234567890123456789",
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnmqwertyuiop",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "qazwsxedcrfvtgbyhnujmikolp",
)
# The head of every guessing list (and the local favourites), compared lower-cased.
COMMON_PASSWORDS = frozenset(
    {
        "password", "password1", "password12", "password123", "password1234", "passw0rd", "p@ssw0rd",
        "p@ssword", "passw0rd123", "p@ssw0rd123", "iloveyou", "iloveyou1", "sunshine", "princess",
        "football", "baseball", "welcome", "welcome1", "welcome123", "letmein", "letmein123",
        "trustno1", "dragon", "monkey", "master", "shadow", "superman", "batman", "michael",
        "admin", "admin123", "admin1234", "admin12345", "administrator", "root", "root123",
        "changeme", "changeme123", "default", "secret", "qwerty123", "qwerty1234", "1q2w3e4r",
        "1q2w3e4r5t", "1qaz2wsx", "1qaz@wsx", "zaq12wsx", "abc123", "abc12345", "abc123456",
        "a123456789", "aa123456", "aa12345678", "woaini", "woaini1314", "woaini520", "5201314",
        "1314520", "520131400", "huang123", "zhang123", "wang123456", "li123456", "qq123456",
        "qq123456789", "147258369", "159357", "123123123", "123321123", "112233445566",
        "11223344", "111222333", "666888", "88888888", "password!", "test1234", "testtest",
        "hallwatch", "hallwatch1", "hallwatch123", "hallwatch2026", "zhengwu", "zhengwu123",
        "zwfw123456", "gov123456", "jiancha123",
    }
)  # fmt: skip


class WeakPasswordError(ValueError):
    """Which rule refused the password, in English (API, CLI) and Chinese (pages)."""

    def __init__(self, rule: str, message: str, zh: str) -> None:
        super().__init__(message)
        self.rule, self.zh = rule, zh


def check_strength(password: str, *, username: str, min_length: int = MIN_PASSWORD_LENGTH) -> None:
    """Raise WeakPasswordError naming the first rule `password` breaks; the one policy of central."""
    stripped = password.strip()
    lowered = stripped.lower()
    if not stripped:
        raise WeakPasswordError("blank", "a password must not be only spaces", "密码不能全是空格。")
    if len(password) < min_length:
        raise WeakPasswordError(
            "short",
            f"a password needs at least {min_length} characters",
            f"密码太短：至少需要 {min_length} 个字符。",
        )
    if len(set(lowered)) == 1:
        raise WeakPasswordError(
            "repeated", "a password must not be one character repeated", "密码不能由同一个字符重复组成。"
        )
    if _is_run(lowered):
        raise WeakPasswordError(
            "sequence",
            "a password must not be a sequence such as 1234567890 or qwertyuiop",
            "密码不能是连续的数字、字母或键盘序列（如 1234567890、qwertyuiop）。",
        )
    if lowered in COMMON_PASSWORDS or _drop_trailing_digits(lowered) in COMMON_PASSWORDS:
        raise WeakPasswordError(
            "common", "this password is on every list of common passwords", "该密码过于常见，请换一个。"
        )
    name = username.strip().lower()
    if name and (name in lowered or lowered in name):
        raise WeakPasswordError(
            "username", "a password must not contain the username", "密码不能包含用户名。"
        )


def _is_run(lowered: str) -> bool:
    """Part of one of `_RUNS`, forwards or backwards (`0987654321` too)."""
    return any(lowered in run or lowered[::-1] in run for run in _RUNS)


def _drop_trailing_digits(lowered: str) -> str:
    return lowered.rstrip("0123456789") or lowered


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """One argon2 verification on every call, so an unknown user costs what a known one does."""
    try:
        return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)

"""argon2id's cost is a deployment setting (`HALLWATCH_PASSWORD_HASH_*`), never below OWASP's minimum;
a hash made at another cost is made again at its owner's next sign-in."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from argon2.profiles import RFC_9106_LOW_MEMORY
from pydantic import ValidationError

from central.access import passwords
from central.access.passwords import HashCost


def test_the_default_is_argon2s_own(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MEMORY_KIB", "TIME_COST", "PARALLELISM"):
        monkeypatch.delenv(f"HALLWATCH_PASSWORD_HASH_{name}", raising=False)
    cost = HashCost()
    assert cost.memory_kib == RFC_9106_LOW_MEMORY.memory_cost
    assert cost.time_cost == RFC_9106_LOW_MEMORY.time_cost
    assert cost.parallelism == RFC_9106_LOW_MEMORY.parallelism


@pytest.mark.parametrize(("memory", "passes"), [(19456, 2), (47104, 1), (7168, 5)])
def test_owasps_settings_are_accepted(memory: int, passes: int) -> None:
    assert HashCost(memory_kib=memory, time_cost=passes).memory_kib == memory


@pytest.mark.parametrize(("memory", "passes", "says"), [(19456, 1, "below OWASP"), (4096, 10, "7168")])
def test_a_cost_below_owasps_minimum_is_refused(memory: int, passes: int, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        HashCost(memory_kib=memory, time_cost=passes)


def test_the_environment_sets_the_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALLWATCH_PASSWORD_HASH_MEMORY_KIB", "47104")
    monkeypatch.setenv("HALLWATCH_PASSWORD_HASH_TIME_COST", "1")
    cost = HashCost()
    assert (cost.memory_kib, cost.time_cost) == (47104, 1)


def test_a_hash_of_another_cost_is_made_again() -> None:
    other = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash("correct-horse-battery-2026")
    assert passwords.needs_rehash(other) == (passwords._cost.memory_kib != 65536)
    assert passwords.verify_password(other, "correct-horse-battery-2026")  # still signs in meanwhile
    assert not passwords.needs_rehash(passwords.hash_password("correct-horse-battery-2026"))

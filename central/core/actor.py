"""Who did something: the subject every audit entry and permission check names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ActorKind = Literal["user", "device", "cli", "system", "anonymous"]


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    name: str  # username, device code, OS user for the CLI, or the job name for the system
    remote_addr: str | None = None  # where the request came from, when there was one

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"


SYSTEM = Actor(kind="system", name="central")

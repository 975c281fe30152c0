"""The device channel's messages (`GET /api/v1/device/channel`, a WebSocket): JSON text frames, each an
object with a `type`. One module, so the shared contract package can take it over as it is.

    agent → central   hello {cursor}          first frame: resume after this command cursor
                      ack {cursor}            the agent has kept this cursor (informational)
                      reply {command_id, body} an answer that must not wait for the outbox
                      ping {outbox?} / pong   heartbeats, answered by the other side's pong; the
                                              agent's ping may carry its outbox's disk state
    central → agent   commands {commands, cursor}  a page exactly as the long-poll answers it
                      ping / pong

The outbox's disk state (`OutboxReport`) travels outside the outbox, because an observation through
a full outbox cannot carry it: in the agent's pings, and as the `X-Device-Outbox` header (its JSON) of
the agent's time sync, `GET /api/v1/device/time`, which runs on the long-poll too. A central older than
the field closes the channel on such a ping (1007): central is upgraded before the edges.

Commands travel as plain objects: each side validates them with its own command models (the
long-poll's, so both ways hand an agent the same thing). Central closes with `CLOSE_REFUSED` (1008,
policy violation) for a key it does not accept or that is revoked while connected, and with
`CLOSE_TRY_AGAIN` (1013) when its database cannot check the key at the upgrade.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, model_validator

logger = logging.getLogger(__name__)

CHANNEL_PATH = "/api/v1/device/channel"
CLOSE_REFUSED = 1008  # unknown, revoked or expired key: do not retry soon
CLOSE_BAD_MESSAGE = 1007  # a frame that is not one of these messages
CLOSE_IDLE = 4000  # nothing heard for longer than central's idle limit
CLOSE_TRY_AGAIN = 1013  # central cannot check the key now (its database is away): reconnect later
MAX_REPLY_BYTES = 6000  # a reply body, as JSON; relayed between instances in one NOTIFY
CURSOR_MAX = 2**31 - 1
OUTBOX_HEADER = "X-Device-Outbox"  # an OutboxReport as JSON, on the agent's GET /api/v1/device/time
OUTBOX_HEADER_MAX = 2000  # characters: what MAX_KINDS kind names and counts take, and room to spare
MAX_KINDS = 32  # refused counts by observation kind: an agent has a dozen kinds
FREE_BYTES_MAX = 2**60  # an exabyte: any real disk
SINCE_MIN, SINCE_MAX = 946684800.0, 4102444800.0  # 2000-01-01 .. 2100-01-01 UTC, unix seconds


class _ToCentral(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _ToAgent(BaseModel):
    # A newer central may add fields: an older agent ignores them rather than drop the frame.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Hello(_ToCentral):
    type: Literal["hello"] = "hello"
    cursor: int = Field(ge=0, le=CURSOR_MAX, description="The last command cursor the agent kept.")


class Ack(_ToCentral):
    type: Literal["ack"] = "ack"
    cursor: int = Field(ge=0, le=CURSOR_MAX)


class Reply(_ToCentral):
    type: Literal["reply"] = "reply"
    command_id: int = Field(ge=1, le=CURSOR_MAX, description="The command this answers.")
    body: dict[str, Any] = Field(description=f"The answer; at most {MAX_REPLY_BYTES} bytes as JSON.")


KindName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Count = Annotated[int, Field(ge=0, le=CURSOR_MAX)]


class OutboxReport(_ToCentral):
    """The agent's outbox disk state (`edge.outbox_space.OutboxHealth`): `full` (new observations are
    refused), `low` (evidence and clips are refused) or `ok`; since when, on central's clock as the
    agent keeps it; free bytes; observations refused since the agent started, in all and by kind."""

    state: Literal["ok", "low", "full"]
    since: float | None = Field(
        default=None,
        ge=SINCE_MIN,
        le=SINCE_MAX,
        allow_inf_nan=False,
        description="When the condition began (unix seconds); none while ok.",
    )
    free_bytes: int = Field(ge=0, le=FREE_BYTES_MAX, description="Free space on the outbox's file system.")
    refused: Count = Field(default=0, description="Observations refused since the agent started.")
    refused_by_kind: dict[KindName, Count] = Field(default_factory=dict, max_length=MAX_KINDS)

    @model_validator(mode="after")
    def verify_since(self) -> Self:
        if (self.state == "ok") != (self.since is None):
            raise ValueError("since is given exactly when the state is low or full")
        return self

    @model_validator(mode="after")
    def verify_refused_by_kind(self) -> Self:
        if sum(self.refused_by_kind.values()) > self.refused:
            raise ValueError("refused_by_kind counts more than refused")
        return self


class Ping(_ToCentral):
    type: Literal["ping"] = "ping"
    # Left out of the frame when none: a plain ping is what it always was, for any central.
    outbox: OutboxReport | None = Field(default=None, exclude_if=lambda value: value is None)


class Pong(_ToCentral):
    type: Literal["pong"] = "pong"


class Commands(_ToAgent):
    type: Literal["commands"] = "commands"
    commands: list[dict[str, Any]] = Field(max_length=1000)
    cursor: int = Field(ge=0, le=CURSOR_MAX)


class AgentPing(_ToAgent):
    type: Literal["ping"] = "ping"


class AgentPong(_ToAgent):
    type: Literal["pong"] = "pong"


ToCentral = Annotated[Hello | Ack | Reply | Ping | Pong, Field(discriminator="type")]
ToAgent = Annotated[Commands | AgentPing | AgentPong, Field(discriminator="type")]
TO_CENTRAL: TypeAdapter[Hello | Ack | Reply | Ping | Pong] = TypeAdapter(ToCentral)
TO_AGENT: TypeAdapter[Commands | AgentPing | AgentPong] = TypeAdapter(ToAgent)

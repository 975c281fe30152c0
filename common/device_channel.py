"""The device channel's messages (`GET /api/v1/device/channel`, a WebSocket): JSON text frames, each an
object with a `type`. One module, so the shared contract package can take it over as it is.

    agent → central   hello {cursor}          first frame: resume after this command cursor
                      ack {cursor}            the agent has kept this cursor (informational)
                      reply {command_id, body} an answer that must not wait for the outbox
                      ping / pong             heartbeats, answered by the other side's pong
    central → agent   commands {commands, cursor}  a page exactly as the long-poll answers it
                      ping / pong

Commands travel as plain objects: each side validates them with its own command models (the
long-poll's, so both ways hand an agent the same thing). Central closes with `CLOSE_REFUSED` (1008,
policy violation) for a key it does not accept or that is revoked while connected.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

logger = logging.getLogger(__name__)

CHANNEL_PATH = "/api/v1/device/channel"
CLOSE_REFUSED = 1008  # unknown, revoked or expired key: do not retry soon
CLOSE_BAD_MESSAGE = 1007  # a frame that is not one of these messages
CLOSE_IDLE = 4000  # nothing heard for longer than central's idle limit
MAX_REPLY_BYTES = 6000  # a reply body, as JSON; relayed between instances in one NOTIFY
CURSOR_MAX = 2**31 - 1


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


class Ping(_ToCentral):
    type: Literal["ping"] = "ping"


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

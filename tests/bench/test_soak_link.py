"""The soak's TCP link (bench/soak_link.py) closes a relayed connection once both ends have finished:
a connection kept half-open on each side held two file descriptors for ever, and the hour-long soak ran
out of them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop

from bench.soak_link import Link


async def _server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers what it read once the client has finished sending, then closes (HTTP/1.0's manner)."""
    data = await reader.read()
    writer.write(data.upper())
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def _relay_and_finish(rounds: int) -> tuple[list[bytes], int]:
    server = await asyncio.start_server(_server, "127.0.0.1", 0)
    link = Link(server.sockets[0].getsockname()[1])
    await link.open()
    answers = []
    try:
        for n in range(rounds):
            reader, writer = await asyncio.open_connection("127.0.0.1", link.port)
            writer.write(f"request {n}".encode())
            writer.write_eof()
            answers.append(await reader.read())
            writer.close()
            await writer.wait_closed()
        for _ in range(200):  # the link sees both ends' closes asynchronously
            if not link.sides:
                break
            await asyncio.sleep(0.01)
        return answers, len(link.sides)
    finally:
        await link.close()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("run", [asyncio.run, uvloop.run], ids=["asyncio", "uvloop"])  # the soak runs uvloop
def test_a_connection_both_ends_finished_is_closed_on_the_link(
    run: Callable[[Coroutine[Any, Any, tuple[list[bytes], int]]], tuple[list[bytes], int]],
) -> None:
    answers, left_open = run(_relay_and_finish(5))
    assert answers == [f"REQUEST {n}".encode() for n in range(5)], "bytes pass through, half-close included"
    assert left_open == 0, "both ends of each finished connection closed on the link"

"""The agent's copy on disk: atomic, survives a restart, and a corrupt or foreign file is an empty
start with a warning, never a crash."""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.public_feed import HallRef
from hall_display.cache import CATALOG_FILE, FEED_FILE, INFO_FILE, DisplayCache, FeedWriter, atomic_write
from hall_display.state import FeedState, apply, from_snapshot
from tests.hall_display import samples

NOW = datetime(2026, 5, 11, 3, 0, tzinfo=UTC)


def state_with(*numbers: int, last: int = 10) -> FeedState:
    return from_snapshot(samples.snapshot(last, [samples.case(n) for n in numbers]), NOW)


def test_the_copy_survives_a_restart(tmp_path: Path) -> None:
    cache = DisplayCache(tmp_path / "display")
    state, _ = apply(state_with(1, 2), "case_removed", "11", '{"case_no": "SC2026000001"}', now=NOW)
    cache.save_feed(state)
    cache.save_catalog(samples.catalog())
    cache.save_info(samples.info())
    again = DisplayCache(tmp_path / "display")
    loaded = again.load_feed(samples.HALL)
    assert loaded == state  # cases, summary, notices, last id and when it was current
    assert again.load_catalog(samples.HALL) == samples.catalog()
    assert again.load_info(samples.HALL) == samples.info()
    assert sorted(p.name for p in (tmp_path / "display").iterdir()) == [CATALOG_FILE, FEED_FILE, INFO_FILE]


def test_nothing_whole_to_keep_writes_nothing(tmp_path: Path) -> None:
    cache = DisplayCache(tmp_path)
    cache.save_feed(FeedState())
    assert not (tmp_path / FEED_FILE).exists()
    assert cache.load_feed(samples.HALL) == FeedState() and cache.load_catalog(samples.HALL) is None


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"null",
        b"[]",
        b'{"updated_at": "2026-05-11T03:00:00Z"}',
        b"\xff\xfe\x00garbage",
        json.dumps({"updated_at": "yesterday", "snapshot": {}}).encode(),
    ],
)
def test_a_corrupt_file_is_an_empty_start_with_a_warning(tmp_path: Path, content: bytes, caplog) -> None:
    for name in (FEED_FILE, CATALOG_FILE, INFO_FILE):
        (tmp_path / name).write_bytes(content)
    cache = DisplayCache(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert cache.load_feed(samples.HALL) == FeedState()
        assert cache.load_catalog(samples.HALL) is None and cache.load_info(samples.HALL) is None
    assert sum("corrupt" in r.getMessage() for r in caplog.records) == 3


def test_a_file_it_cannot_read_is_an_empty_start(tmp_path: Path, caplog) -> None:
    (tmp_path / FEED_FILE).mkdir()  # a directory where the file should be
    assert DisplayCache(tmp_path).load_feed(samples.HALL) == FeedState()
    assert "cannot read" in caplog.text


def test_another_halls_copy_is_not_shown(tmp_path: Path, caplog) -> None:
    cache = DisplayCache(tmp_path)
    other = HallRef(code="510100-ZWFW", name="成都市政务服务中心")
    cache._write(FEED_FILE, samples.snapshot(3, [], hall=other))  # not even the right shape
    cache.save_feed(from_snapshot(samples.snapshot(3, [samples.case(1)], hall=other), NOW))
    cache.save_catalog(samples.catalog(other))
    assert cache.load_feed(samples.HALL) == FeedState() and cache.load_catalog(samples.HALL) is None
    assert "510100-ZWFW's feed, not 510000-ZWFW's" in caplog.text


def test_a_write_replaces_the_file_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / FEED_FILE
    target.write_bytes(b"old")
    inode = target.stat().st_ino
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new" and target.stat().st_ino != inode  # a new file, renamed over
    assert [p.name for p in tmp_path.iterdir()] == [FEED_FILE]


def test_a_failed_write_keeps_the_old_copy_and_leaves_no_temporary(tmp_path: Path) -> None:
    """A full disk, as the file size limit makes it: the write fails half way, the old copy stays."""
    cache = DisplayCache(tmp_path)
    cache.save_feed(state_with(1))
    size = (tmp_path / FEED_FILE).stat().st_size
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails (EFBIG) instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 10, hard))
    try:
        with pytest.raises(OSError):
            cache.save_feed(state_with(1, 2, 3))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert list(cache.load_feed(samples.HALL).cases) == ["SC2026000001"]
    assert [p.name for p in tmp_path.iterdir()] == [FEED_FILE]


def test_a_write_over_a_directory_fails_and_leaves_no_temporary(tmp_path: Path) -> None:
    (tmp_path / FEED_FILE).mkdir()
    with pytest.raises(OSError):
        atomic_write(tmp_path / FEED_FILE, b"{}")
    assert [p.name for p in tmp_path.iterdir()] == [FEED_FILE]


def test_the_writer_debounces_and_writes_the_last_state_on_close(tmp_path: Path) -> None:
    cache = DisplayCache(tmp_path)
    current = {"state": state_with(1)}

    async def scenario() -> FeedWriter:
        writer = FeedWriter(cache, lambda: current["state"], min_interval=3600)
        task = asyncio.create_task(writer.run())
        writer.mark_dirty()
        while writer.writes == 0:
            await asyncio.sleep(0.01)
        for n in range(2, 30):  # many changes inside one interval: no write until it ends
            current["state"] = state_with(*range(1, n + 1), last=10 + n)
            writer.mark_dirty()
            await asyncio.sleep(0)
        assert writer.writes == 1
        await writer.close(task)
        return writer

    writer = asyncio.run(scenario())
    assert writer.writes == 2
    loaded = cache.load_feed(samples.HALL)
    assert len(loaded.cases) == 29 and loaded.last_event_id == 39

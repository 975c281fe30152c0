"""The display agent's copy of its hall's data on disk (cache_dir): what it shows when central is gone,
even right after its own restart.

- feed.json: the feed state as a `FeedSnapshot` with `updated_at` (when the data last came from central)
- catalog.json, info.json: the hall's item catalog and its rules, as central gave them

Every write is atomic (a temporary file in the same directory, fsync, os.replace): a power cut leaves
the old copy or the new one, never half of one. A missing, unreadable or corrupt file is an empty
start with a warning, never a crash. Feed writes are debounced (`FeedWriter`): at most one a second,
and a last one on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from common.public_feed import Catalog, FeedSnapshot, HallInfo
from hall_display.state import FeedState, from_snapshot

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
FEED_FILE, CATALOG_FILE, INFO_FILE = "feed.json", "catalog.json", "info.json"


class CachedFeed(BaseModel):
    """feed.json."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    updated_at: datetime
    snapshot: FeedSnapshot


class DisplayCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)  # OSError: the agent cannot start, said at once

    def load_feed(self, hall: str) -> FeedState:
        """The feed as last saved; empty when there is none, it is unreadable, or of another hall."""
        cached = self._load(FEED_FILE, CachedFeed)
        if cached is None:
            return FeedState()
        if cached.snapshot.hall.code != hall:
            logger.warning(
                "%s is hall %s's feed, not %s's: starting empty",
                self.directory / FEED_FILE,
                cached.snapshot.hall.code,
                hall,
            )
            return FeedState()
        return from_snapshot(cached.snapshot, cached.updated_at)

    def save_feed(self, state: FeedState) -> None:
        snapshot = state.to_snapshot()
        if snapshot is None or state.updated_at is None:
            return  # nothing whole to keep yet
        self._write(FEED_FILE, CachedFeed(updated_at=state.updated_at, snapshot=snapshot))

    def load_catalog(self, hall: str) -> Catalog | None:
        return self._of_hall(self._load(CATALOG_FILE, Catalog), hall, CATALOG_FILE)

    def save_catalog(self, catalog: Catalog) -> None:
        self._write(CATALOG_FILE, catalog)

    def load_info(self, hall: str) -> HallInfo | None:
        return self._of_hall(self._load(INFO_FILE, HallInfo), hall, INFO_FILE)

    def save_info(self, info: HallInfo) -> None:
        self._write(INFO_FILE, info)

    def _of_hall(self, value: M | None, hall: str, name: str) -> M | None:
        code = getattr(getattr(value, "hall", None), "code", hall)
        if code != hall:
            logger.warning("%s is hall %s's, not %s's: not used", self.directory / name, code, hall)
            return None
        return value

    def _load(self, name: str, model: type[M]) -> M | None:
        path = self.directory / name
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            logger.warning("cannot read %s (%s): starting without it", path, exc.strerror)
            return None
        try:
            return model.model_validate_json(raw)
        except ValidationError as exc:
            logger.warning("%s is corrupt (%s): starting without it", path, _first_error(exc))
            return None

    def _write(self, name: str, value: BaseModel) -> None:
        atomic_write(self.directory / name, value.model_dump_json().encode("utf-8"))


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return f"{'.'.join(str(p) for p in first['loc']) or '(file)'}: {first['msg']}"


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` all at once, durably (the file, then its directory entry)."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened for it
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class FeedWriter:
    """Writes the feed when it changed, at most once every `min_interval` seconds, off the event loop;
    `close()` writes what is pending and stops."""

    def __init__(
        self, cache: DisplayCache, current: Callable[[], FeedState], *, min_interval: float = 1.0
    ) -> None:
        self.cache = cache
        self.current = current
        self.min_interval = min_interval
        self.writes = 0
        self._dirty = asyncio.Event()
        self._closed = asyncio.Event()
        self._closing = False

    def mark_dirty(self) -> None:
        self._dirty.set()

    async def run(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            await asyncio.to_thread(self._save, self.current())
            if self._closing:
                if self._dirty.is_set():  # changed while that write ran
                    await asyncio.to_thread(self._save, self.current())
                return
            with contextlib.suppress(TimeoutError):  # the pause, cut short by close()
                await asyncio.wait_for(self._closed.wait(), self.min_interval)

    async def close(self, task: asyncio.Task[None]) -> None:
        """Write the feed as it is now (after any write `task` began) and end `task`."""
        self._closing = True
        self._dirty.set()
        self._closed.set()
        if task.done():
            self._save(self.current())
        else:
            await task

    def _save(self, state: FeedState) -> None:
        try:
            self.cache.save_feed(state)
            self.writes += 1
        except OSError as exc:  # a full disk must not stop the screens
            logger.error("cannot write the feed copy in %s: %s", self.cache.directory, exc)

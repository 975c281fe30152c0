"""Results one test run makes once for all its pytest-xdist workers, such as an encoded video or a
soak, in the run's shared temp dir (tests/conftest.py sets it): the first worker to ask makes it under
a lock; the others wait on the lock and use it. Without xdist, a fresh temp dir of the caller's.

pytest-xdist's own grouping (`xdist_group` with `--dist loadgroup`) does nothing under pytest 9.2: it
renames the items' node ids, which pytest no longer reads from there.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

SHARED_DIR_VARIABLE = "HALLWATCH_TEST_SHARED_DIR"  # set by tests/conftest.py under pytest-xdist


def once_per_run(name: str, make: Callable[[Path], None], *, fallback: Path) -> Path:
    """The directory `name` filled by `make(directory)` once in this test run; `fallback` (a temp dir
    of the caller's) where no run-wide dir is shared. A `make` that fails leaves nothing behind, so
    the next worker tries again and fails the same way on its own."""
    shared = os.environ.get(SHARED_DIR_VARIABLE)
    if shared is None:
        make(fallback)
        return fallback
    done = Path(shared) / name
    with (Path(shared) / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.is_dir():
            return done
        building = Path(shared) / f"{name}.building-{os.getpid()}"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir()
        try:
            make(building)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        building.rename(done)
        return done

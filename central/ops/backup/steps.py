"""Long steps of a backup or restore, shown as progress bars by the CLI (rich, on stderr) or not at
all (library callers, tests)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import Progress, TaskID

logger = logging.getLogger(__name__)


class Step:
    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        self._progress, self._task = progress, task

    def advance(self, amount: int = 1) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, amount)

    def reached(self, completed: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=completed)

    def tick(self) -> None:
        """Nothing measurable moved: keeps the spinner and the elapsed time going."""
        if self._progress is not None:
            self._progress.refresh()


class Steps:
    def __init__(self, progress: Progress | None = None) -> None:
        self.progress = progress

    @contextmanager
    def step(self, label: str, total: float | None = None) -> Iterator[Step]:
        logger.debug("%s", label)
        if self.progress is None:
            yield Step(None, None)
            return
        task = self.progress.add_task(label, total=total)
        try:
            yield Step(self.progress, task)
        finally:
            self.progress.update(task, completed=total or 0, total=total or 0)
            self.progress.stop_task(task)


QUIET = Steps()

"""Chromium in kiosk mode at the display's page: started with the agent, started again when it exits
(with doubling waits, so a browser that cannot start does not spin), stopped with the agent.

For an LED display the window sits at the top left corner at the LED screen's size: the LED
controller mirrors exactly that region of the PC's screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from pathlib import Path

from common.display_config import DisplayConfig

logger = logging.getLogger(__name__)

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
STOP_GRACE_SECONDS = 5.0
RESTART_FIRST_SECONDS = 1.0
RESTART_MOST_SECONDS = 60.0
STABLE_SECONDS = 60.0  # a browser that ran this long was fine: the next restart is quick again


class BrowserNotFoundError(RuntimeError):
    pass


def find_browser(executable: Path | None) -> Path:
    """The configured browser, or the first Chromium-like one on PATH."""
    if executable is not None:
        if not executable.is_file():
            raise BrowserNotFoundError(f"the browser {executable} does not exist")
        return executable
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise BrowserNotFoundError(
        f"no browser on PATH (looked for {', '.join(BROWSER_NAMES)}); set browser.executable"
    )


def browser_args(display: DisplayConfig, url: str, profile_dir: Path) -> list[str]:
    args = [
        "--kiosk",
        "--noerrdialogs",
        "--disable-infobars",
        "--no-first-run",
        "--disable-session-crashed-bubble",  # a killed browser does not offer to restore tabs
        "--disable-translate",
        f"--user-data-dir={profile_dir}",  # its own profile: two displays on one PC stay apart
    ]
    if display.kind == "led":
        args += ["--window-position=0,0", f"--window-size={display.led.width},{display.led.height}"]
    return [*args, *display.browser.extra_args, f"--app={url}"]


class BrowserRunner:
    def __init__(self, executable: Path, args: list[str]) -> None:
        self.executable = executable
        self.args = args
        self.starts = 0
        self._process: asyncio.subprocess.Process | None = None

    async def run(self) -> None:
        """Keep the browser running until cancelled; then stop it."""
        delay = RESTART_FIRST_SECONDS
        try:
            while True:
                began = time.monotonic()
                code = await self._run_once()
                if time.monotonic() - began >= STABLE_SECONDS:
                    delay = RESTART_FIRST_SECONDS
                logger.warning("browser exited (%s); starting it again in %.0f s", code, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RESTART_MOST_SECONDS)
        finally:
            await self.stop()

    async def _run_once(self) -> int | str:
        try:
            self._process = await asyncio.create_subprocess_exec(
                str(self.executable),
                *self.args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
        except OSError as exc:
            logger.error("cannot start the browser %s: %s", self.executable, exc)
            return f"not started: {exc.strerror}"
        self.starts += 1
        logger.info("browser started (pid %d): %s", self._process.pid, self.args[-1])
        return await self._process.wait()

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), STOP_GRACE_SECONDS)
        except TimeoutError:
            logger.warning("browser did not stop within %.0f s: killing it", STOP_GRACE_SECONDS)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

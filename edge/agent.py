"""The edge agent: config → outbox → uploader → camera pipelines and keypad readers → command channel,
and the live publisher (edge.live) when the config has a `live` section that is enabled.

`hallwatch edge run CONFIG` builds an Agent and runs it until SIGTERM/SIGINT. Only one agent may use
an outbox at a time (an exclusive lock file beside it, released by the kernel if the process dies),
so a restarted agent never races a stale one over the same rows or serial ports.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import cv2

from common.device_channel import OutboxReport
from edge.central import ClockSync, check_identity, make_client, post_reply
from edge.channel import CommandChannel
from edge.clock import CentralTime, utc_now
from edge.commands import CommandHandler, CommandPoller
from edge.config import EdgeConfig, OutboxConfig
from edge.keypads.reader import KeypadReader
from edge.live.commands import LiveCommands
from edge.outbox import Outbox
from edge.outbox_space import MB, OutboxFull, SpacePolicy
from edge.patrol_capture import PatrolCaptures
from edge.uploader import Uploader
from edge.video.config import CameraConfig
from edge.video.detect.base import make_detector
from edge.video.pipeline import CameraPipeline
from rating_device.protocol import Prompt

if TYPE_CHECKING:
    from edge.live.publisher import LivePublisher

logger = logging.getLogger(__name__)

STATUS_LOG_EVERY_S = 300.0


class AgentBusyError(RuntimeError):
    """Another edge agent holds this outbox."""


def lock_outbox(path: Path) -> TextIO:
    """Hold the lock file `path` beside an outbox for this process's life, or AgentBusyError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="ascii")  # noqa: SIM115 - held open for the agent's life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise AgentBusyError(f"another edge agent (pid {holder}) uses the outbox beside {path}") from None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def open_outbox(settings: OutboxConfig, path: Path | None = None, *, spare: bool = True) -> Outbox:
    """The outbox at `path` (default: the configured one) with the configured retention and disk
    reserve; `spare=False` keeps no spare file (a one-shot job's outbox)."""
    policy = SpacePolicy(
        reserve_bytes=int(settings.reserve_mb * MB), spare_bytes=int(settings.spare_mb * MB) if spare else 0
    )
    return Outbox(
        path or settings.path, retain_delivered_seconds=settings.retain_delivered_hours * 3600, space=policy
    )


class Agent:
    def __init__(self, config: EdgeConfig, *, key: str, clock: Callable[[], datetime] = utc_now) -> None:
        self.config = config
        # Every stamp is `clock` kept to central's time (edge.clock): presses bind by press time.
        self.time = CentralTime(clock)
        clock = self.time.now
        if config.cameras:
            # Analysis runs on small region crops; OpenCV's own threads only add overhead there, and
            # one core per few windows is the budget (bench/presence.py).
            cv2.setNumThreads(1)
        # Detectors first: a missing weights file is a clear error before anything is opened.
        detectors = {c.name: make_detector(config.analysis.detector) for c in _analysed_cameras(config)}
        self._lock_file = lock_outbox(config.outbox.path.with_name(config.outbox.path.name + ".lock"))
        self.outbox = open_outbox(config.outbox)
        # The current hours' visitor counts of an agent that was killed (kill -9, power cut) are final now.
        try:
            self.outbox.promote_provisional()
        except OutboxFull:
            logger.error("outbox: the last run's visitor counts stay provisional: no room to store them")
        central = config.central
        self._upload_client = make_client(central, key)
        self._poll_client = make_client(
            central, key, read_timeout=central.poll_wait_seconds + central.request_timeout_seconds
        )
        self.uploader = Uploader(
            self.outbox,
            self._upload_client,
            batch_size=config.outbox.batch_size,
            batch_max_bytes=config.outbox.batch_max_bytes,
            initial_backoff_seconds=config.outbox.initial_backoff_seconds,
            max_backoff_seconds=config.outbox.max_backoff_seconds,
        )
        self.cameras = [
            CameraPipeline(
                camera,
                [w for w in config.windows if w.camera == camera.name],
                analysis=config.analysis,
                profile=config.profile,
                outbox=self.outbox,
                detector=detectors[camera.name],
                clock=clock,
            )
            if camera.name in detectors
            else CameraPipeline.health_only(camera, outbox=self.outbox, clock=clock)
            for camera in config.cameras
        ]
        # Each press is stamped with what the camera watching its window saw at the counter (a window
        # is watched by at most one camera); a keypad at a window no camera analyses gets no hook.
        watching = {w: c for c in self.cameras if c.analyser is not None for w in c.analyser.windows}
        self.readers = {
            k.window: KeypadReader(
                k, self.outbox, clock=clock, citizen_present=_citizen_hook(watching.get(k.window), k.window)
            )
            for k in config.keypads
        }
        # The live view reads each camera through its pipeline's reader: no second connection to it.
        self.live = _live_publisher(config, self.cameras, outbox=self.outbox, clock=clock)
        self.clock_sync = ClockSync(
            self._upload_client,
            self.time,
            every_seconds=central.clock_sync_seconds,
            outbox=self.outbox_report,
        )
        # Live view signalling: offers for this agent's cameras are answered (or refused: live off).
        self.live_commands = LiveCommands(
            self.live, cameras=[c.name for c in config.cameras], reply=self.reply
        )
        # Commands come over the WebSocket channel, or by long-poll while it cannot be opened: one
        # handler (and one cursor in the outbox) for both.
        # A patrol finding's snapshot and clip: by the agent that has the camera, live view on or off.
        self.captures = PatrolCaptures(
            {c.camera.name: c for c in self.cameras}, self.live, outbox=self.outbox
        )
        handler = CommandHandler(
            self.outbox, self.prompt, clock=clock, live=self.live_commands, capture=self.captures
        )
        poller = CommandPoller(
            self._poll_client,
            self.outbox,
            self.prompt,
            wait_seconds=central.poll_wait_seconds,
            max_backoff_seconds=config.outbox.max_backoff_seconds,
            handler=handler,
        )
        # A channel that opens says central is back: the uploader sends its backlog then, not when its
        # backoff runs out.
        self.commands = CommandChannel(
            central, key, handler, poller, outbox=self.outbox_report, on_open=self.uploader.nudge
        )

    def prompt(self, window: str, prompt: Prompt, expires_at: datetime) -> bool:
        """Have the keypad at `window` show `prompt`; False when this hall has no keypad there."""
        reader = self.readers.get(window)
        return reader is not None and reader.prompt(prompt, expires_at=expires_at)

    def outbox_report(self) -> OutboxReport | None:
        """The outbox's disk state for central (pings, time syncs), `since` on central's clock; None
        when the disk cannot even be asked (the ping or time sync goes without it)."""
        try:
            health = self.outbox.health()
        except OSError as exc:
            logger.warning("outbox: cannot read its disk's free space for central: %s", exc)
            return None
        return health.report(clock_offset_seconds=self.time.offset.total_seconds())

    def reply(self, command_id: int, body: dict[str, Any]) -> bool:
        """Answer a command now: up the channel when it is open, else by HTTP (the long-poll fallback)."""
        return self.commands.reply(command_id, body) or post_reply(self._upload_client, command_id, body)

    def start(self) -> None:
        logger.info(
            "edge agent for hall %s: %d keypad(s), %d camera(s), central %s, outbox %s",
            self.config.hall,
            len(self.readers),
            len(self.cameras),
            self.config.central.url,
            self.config.outbox.path,
        )
        threading.Thread(
            target=check_identity,
            args=(self._poll_client, self.config.hall),
            name="edge-identity",
            daemon=True,
        ).start()
        if self.config.central.clock_sync_seconds > 0:
            self.clock_sync.start()
        self.uploader.start()
        for reader in self.readers.values():
            reader.start()
        for camera in self.cameras:
            camera.start()
        if self.live is not None:
            self.live.start()
        if self.readers or self.cameras:  # prompts for keypads, live view signalling for cameras
            self.commands.start()

    def stop(self) -> None:
        """Readers and cameras first (nothing new arrives; open intervals and the current hour's
        visits are stored), then the command channel; the uploader sends what is pending for at most
        `outbox.drain_on_stop_seconds` before it stops. What is left stays on disk."""
        for reader in self.readers.values():
            reader.stop()
        self.live_commands.stop()  # answers being made finish before the publisher goes
        if self.live is not None:
            self.live.stop()
        for camera in self.cameras:
            camera.stop()
        self.commands.stop()
        self.clock_sync.stop()
        left = self.uploader.drain(self.config.outbox.drain_on_stop_seconds)
        if left:
            logger.warning(
                "stopping with %d observation(s) not yet at central: they go at the next start", left
            )
        self.uploader.stop()
        self._upload_client.close()
        self._poll_client.close()
        counts = self.outbox.counts()
        self.outbox.close()
        self._lock_file.close()
        logger.info("edge agent stopped; outbox: %s", counts)

    def run(self, stop: threading.Event) -> None:
        """Start, run until `stop` is set (by a signal handler), stop."""
        self.start()
        try:
            while not stop.wait(STATUS_LOG_EVERY_S):
                self.log_status()
        finally:
            self.stop()

    def log_status(self) -> None:
        online = sum(r.status().online for r in self.readers.values())
        cameras_online = sum(c.reader.status().online for c in self.cameras)
        health = self.outbox.health()
        logger.log(
            logging.INFO if health.ok else logging.ERROR,
            "status: outbox %s, %s; keypads online %d/%d; cameras online %d/%d; uploaded %d",
            self.outbox.counts(),
            health.summary(),
            online,
            len(self.readers),
            cameras_online,
            len(self.cameras),
            self.uploader.stats.delivered,
        )


def _citizen_hook(pipeline: CameraPipeline | None, window: str) -> Callable[[datetime], bool | None] | None:
    """The reader's `citizen_present` hook: what `pipeline` (if any) saw at `window`'s counter."""
    return None if pipeline is None else partial(pipeline.citizen_present, window)


def _live_publisher(
    config: EdgeConfig, cameras: list[CameraPipeline], *, outbox: Outbox, clock: Callable[[], datetime]
) -> LivePublisher | None:
    """The live publisher of the hall's cameras, or None when live view is off (or there is no camera).
    Each ended view is reported to central through the outbox (a patrol's proof of viewing)."""
    if config.live is None or not config.live.enabled or not cameras:
        return None
    # Imported here: a box without live view never loads aiortc.
    from edge.live.publisher import LiveCamera, LivePublisher, ViewerStats
    from edge.live.reports import view_report

    def report(stats: ViewerStats) -> None:
        with contextlib.suppress(OutboxFull):  # logged and counted by the outbox
            outbox.put(view_report(stats))

    live = [LiveCamera(c.camera.name, c.reader, c.privacy_masks) for c in cameras]
    # The frames' clock (clips are cut by it); each ended view is reported through the outbox.
    return LivePublisher(live, config.live, clock=clock, on_view_ended=report)


def _analysed_cameras(config: EdgeConfig) -> list[CameraConfig]:
    """Cameras that see at least one window (the others only report their health)."""
    watched = {w.camera for w in config.windows}
    return [c for c in config.cameras if c.name in watched]

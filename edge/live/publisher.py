"""The edge's live publisher: WebRTC views of the hall's cameras, each encoded once per profile.

Each viewer gets its own `RTCPeerConnection` (signalling, its offer and our answer, is relayed by
central; it is not done here) whose one video track is fed by the camera's shared stream
(edge.live.stream). The publisher runs its own asyncio loop on a thread inside the threaded agent;
the plain methods (`answer`, `close`, `viewer_stats`, …) may be called from any other thread.

Each watched stream keeps its last seconds of packets (`live.clip_buffer_seconds`): `clip` muxes them
into a WebM for a patrol finding (edge.live.clips).

Per viewer it counts what it sent (frames, RTP packets, bytes, since when): a patrol's proof of
viewing compares them with what the browser reports it decoded.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from aiortc import RTCIceServer, RTCPeerConnection, RTCRtpSender, RTCSessionDescription

from common.contract import LiveRefusal
from edge.clock import utc_now
from edge.live.clips import Clip, clip_of
from edge.live.config import PROFILES, LiveConfig, ProfileName
from edge.live.ice import offer_host_addresses, rtc_configuration
from edge.live.stream import CameraStream, StreamStats
from edge.live.track import ViewerTrack
from edge.video.capture import CameraReader
from edge.video.config import Polygon

logger = logging.getLogger(__name__)

T = TypeVar("T")
VP8 = ("video/VP8", "video/rtx")
KEEP_CLOSED_VIEWERS = 1000  # final counts of ended views, for the patrol's proof of viewing
STOP_TIMEOUT_S = 10.0
MAX_VIEWER_ID = 100
_BANDWIDTH_FEEDBACK = re.compile(
    r"a=(extmap:\S+ \S*(abs-send-time|transport-wide-cc)|rtcp-fb:\S+ (goog-remb|transport-cc))\b"
)


class LiveError(Exception):
    """A view that cannot be given: unknown camera or profile, too many viewers, a bad offer.
    `reason` is what the agent tells central (edge.live.commands)."""

    def __init__(self, message: str, reason: LiveRefusal = LiveRefusal.FAILED) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class LiveCamera:
    name: str
    reader: CameraReader  # the agent's reader of this camera: no second connection to it
    masks: tuple[Polygon, ...]  # every privacy mask of its images (edge.video.privacy.camera_masks)


@dataclass(frozen=True)
class LiveAnswer:
    viewer: str
    sdp: str


@dataclass(frozen=True)
class ViewerStats:
    viewer: str
    camera: str
    profile: ProfileName
    started_at: datetime
    ended_at: datetime | None
    state: str  # the peer connection's: new, connecting, connected, failed, closed
    frames_sent: int
    keyframes_sent: int
    packets_sent: int  # RTP packets, as the browser's inbound-rtp packetsReceived counts them
    bytes_sent: int  # RTP payload bytes
    frames_dropped: int
    first_frame_at: datetime | None = None
    last_frame_at: datetime | None = None


@dataclass
class _Viewer:
    id: str
    camera: str
    profile: ProfileName
    started_at: datetime
    pc: RTCPeerConnection
    sender: RTCRtpSender
    track: ViewerTrack


class LivePublisher:
    def __init__(
        self,
        cameras: Sequence[LiveCamera],
        config: LiveConfig,
        *,
        clock: Callable[[], datetime] = utc_now,
        on_view_ended: Callable[[ViewerStats], None] | None = None,
    ) -> None:
        self.config = config
        self._cameras = {c.name: c for c in cameras}
        self._clock = clock
        self._on_view_ended = on_view_ended  # the agent reports each ended view to central
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="live-publisher", daemon=True)
        self._streams: dict[tuple[str, ProfileName], CameraStream] = {}
        self._viewers: dict[str, _Viewer] = {}  # on the loop only
        self._answering: dict[str, str] = {}  # viewer → camera, while its answer is made
        self._ended: OrderedDict[str, ViewerStats] = OrderedDict()

    # --- life ------------------------------------------------------------------------------------

    def start(self) -> None:
        addresses = self.config.host_addresses
        offer_host_addresses(None if addresses is None else [str(a) for a in addresses])
        self._thread.start()
        self.call(self._make_streams())
        logger.info("live publisher: %d camera(s), profiles %s", len(self._cameras), ", ".join(PROFILES))

    def stop(self) -> None:
        """Close every view, stop the encoders and the loop."""
        if not self._thread.is_alive():
            return
        try:
            self.call(self._close_all(), timeout=STOP_TIMEOUT_S)
        except (TimeoutError, concurrent.futures.TimeoutError):
            logger.warning("live publisher: views did not close in time")
        for stream in self._streams.values():
            stream.stop(join=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(STOP_TIMEOUT_S)
        logger.info("live publisher stopped")

    # --- call-ins from any thread ----------------------------------------------------------------

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coro` on the publisher's loop and wait for its result (never from the loop itself)."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("on the publisher's loop: await the coroutine instead")
        if not self._thread.is_alive():
            coro.close()
            raise LiveError("the live publisher is not running")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout if timeout is not None else self.config.answer_timeout_seconds)

    def answer(
        self,
        offer_sdp: str,
        *,
        camera: str,
        profile: ProfileName,
        viewer: str | None = None,
        ice_servers: Sequence[RTCIceServer] = (),
    ) -> LiveAnswer:
        """Answer a viewer's SDP offer with a view of `camera` in `profile`; LiveError if refused."""
        return self.call(
            self.answer_async(
                offer_sdp, camera=camera, profile=profile, viewer=viewer, ice_servers=ice_servers
            )
        )

    def close(self, viewer: str) -> bool:
        """End a view; False if there was none by that id."""
        return self.call(self.close_async(viewer))

    def viewer_stats(self, viewer: str) -> ViewerStats | None:
        """What was sent to `viewer`, live or ended (the last KEEP_CLOSED_VIEWERS ended views)."""
        return self.call(self._viewer_stats(viewer))

    def viewers(self) -> list[ViewerStats]:
        return self.call(self._all_viewer_stats())

    def online(self, camera: str) -> bool:
        """Whether `camera` delivers fresh frames now (the page shows 摄像机离线 otherwise)."""
        return self._camera(camera).reader.status().online

    def stream_stats(self, camera: str, profile: ProfileName) -> StreamStats:
        return self._stream(camera, profile).stats()

    def clip(self, camera: str, seconds: float, *, max_bytes: int | None = None) -> Clip | None:
        """The camera's last `seconds` as WebM (from the last keyframe at or before their start);
        None when neither profile has frames of them (nobody watched the camera). LiveError for an
        unknown camera."""
        return self.clip_since(camera, self._clock() - timedelta(seconds=seconds), max_bytes=max_bytes)

    def clip_since(self, camera: str, start: datetime, *, max_bytes: int | None = None) -> Clip | None:
        """As `clip`, from `start` on: the focus stream's frames when it runs (the larger picture),
        else the tile's; a stream that stopped meanwhile still gives what it kept. Any thread."""
        self._camera(camera)
        return clip_of(
            [s for n in ("focus", "tile") if (s := self._streams.get((camera, n)))], start, max_bytes
        )

    # --- on the loop -----------------------------------------------------------------------------

    async def answer_async(
        self,
        offer_sdp: str,
        *,
        camera: str,
        profile: ProfileName,
        viewer: str | None = None,
        ice_servers: Sequence[RTCIceServer] = (),
    ) -> LiveAnswer:
        stream = self._stream(camera, profile)
        viewer = viewer or uuid.uuid4().hex
        if not 0 < len(viewer) <= MAX_VIEWER_ID:
            raise LiveError(f"a viewer id has 1 to {MAX_VIEWER_ID} characters")
        if viewer in self._viewers or viewer in self._answering:
            raise LiveError(f"viewer {viewer!r} is already watching")
        # Views still being answered count too: answering awaits, and others arrive meanwhile.
        watching = sum(
            c == camera for c in [*(v.camera for v in self._viewers.values()), *self._answering.values()]
        )
        if watching >= self.config.max_viewers_per_camera:
            raise LiveError(
                f"camera {camera!r} has {watching} viewers, the most allowed", LiveRefusal.TOO_MANY_VIEWERS
            )
        self._answering[viewer] = camera
        try:
            return await self._answer(
                offer_sdp,
                stream=stream,
                camera=camera,
                profile=profile,
                viewer=viewer,
                ice_servers=ice_servers,
            )
        finally:
            del self._answering[viewer]

    async def _answer(
        self,
        offer_sdp: str,
        *,
        stream: CameraStream,
        camera: str,
        profile: ProfileName,
        viewer: str,
        ice_servers: Sequence[RTCIceServer],
    ) -> LiveAnswer:
        pc = RTCPeerConnection(rtc_configuration(ice_servers))
        track = ViewerTrack(
            viewer=viewer,
            queue_frames=max(4, round(stream.profile.fps)),
            request_keyframe=stream.request_keyframe,
            clock=self._clock,
        )
        try:
            sender = await _negotiate(pc, track, offer_sdp)
        except Exception:
            track.stop()
            await pc.close()
            raise
        _forward_keyframe_requests(sender, stream)
        entry = _Viewer(viewer, camera, profile, self._clock(), pc, sender, track)
        self._viewers[viewer] = entry
        stream.subscribe(track)

        @pc.on("connectionstatechange")
        async def _state() -> None:
            logger.info("live viewer %s (%s/%s): %s", viewer, camera, profile, pc.connectionState)
            if pc.connectionState in ("failed", "closed"):
                await self.close_async(viewer)

        logger.info("live viewer %s: answering for %s/%s", viewer, camera, profile)
        return LiveAnswer(viewer=viewer, sdp=pc.localDescription.sdp)

    async def close_async(self, viewer: str) -> bool:
        entry = self._viewers.get(viewer)
        if entry is None:
            return False
        # Counted before closing (closing ends the track); kept for the proof of viewing.
        self._ended[viewer] = await self._stats(entry, ended_at=self._clock())
        del self._viewers[viewer]
        while len(self._ended) > KEEP_CLOSED_VIEWERS:
            self._ended.popitem(last=False)
        entry.track.stop()
        await entry.pc.close()
        ended = self._ended[viewer]
        logger.info("live viewer %s: closed (%d frames sent)", viewer, ended.frames_sent)
        if self._on_view_ended is not None:
            try:
                self._on_view_ended(ended)
            except Exception:  # the report is for central's proof of viewing; the view is closed anyway
                logger.exception("live viewer %s: its end could not be reported", viewer)
        return True

    async def _viewer_stats(self, viewer: str) -> ViewerStats | None:
        entry = self._viewers.get(viewer)
        return await self._stats(entry) if entry is not None else self._ended.get(viewer)

    async def _all_viewer_stats(self) -> list[ViewerStats]:
        return [await self._stats(v) for v in list(self._viewers.values())]

    async def _stats(self, entry: _Viewer, ended_at: datetime | None = None) -> ViewerStats:
        packets = octets = 0
        report = await entry.sender.getStats()
        for item in report.values():
            if item.type == "outbound-rtp":
                packets, octets = item.packetsSent, item.bytesSent
        counters = entry.track.counters
        return ViewerStats(
            viewer=entry.id,
            camera=entry.camera,
            profile=entry.profile,
            started_at=entry.started_at,
            ended_at=ended_at,
            state="closed" if ended_at is not None else entry.pc.connectionState,
            frames_sent=counters.frames_sent,
            keyframes_sent=counters.keyframes_sent,
            packets_sent=packets,
            bytes_sent=octets,
            frames_dropped=counters.frames_dropped,
            first_frame_at=counters.first_sent_at,
            last_frame_at=counters.last_sent_at,
        )

    async def _make_streams(self) -> None:
        # Made on the loop: a stream hands its packets to this loop.
        for camera in self._cameras.values():
            for name in PROFILES:
                self._streams[camera.name, name] = CameraStream(
                    camera=camera.name,
                    reader=camera.reader,
                    masks=camera.masks,
                    profile_name=name,
                    profile=self.config.profile(name),
                    keyframe_interval_seconds=self.config.keyframe_interval_seconds,
                    loop=asyncio.get_running_loop(),
                    clip_buffer_seconds=self.config.clip_buffer_seconds,
                )

    async def _close_all(self) -> None:
        for viewer in list(self._viewers):
            await self.close_async(viewer)

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    def _camera(self, name: str) -> LiveCamera:
        camera = self._cameras.get(name)
        if camera is None:
            known = ", ".join(sorted(self._cameras)) or "none"
            raise LiveError(f"no camera {name!r} here (known: {known})", LiveRefusal.CAMERA_UNKNOWN)
        return camera

    def _stream(self, camera: str, profile: ProfileName) -> CameraStream:
        self._camera(camera)
        stream = self._streams.get((camera, profile))
        if stream is None:
            raise LiveError(f"no live profile {profile!r} (known: {', '.join(PROFILES)})")
        return stream


async def _negotiate(pc: RTCPeerConnection, track: ViewerTrack, offer_sdp: str) -> RTCRtpSender:
    """Our answer to `offer_sdp`, sending `track` as VP8 (the only codec we encode)."""
    # The transceiver exists before the offer is applied, so the offer's video section takes it
    # and our codec preference (VP8 only) decides the answer's codecs.
    transceiver = pc.addTransceiver(track, direction="sendonly")
    transceiver.setCodecPreferences(
        [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType in VP8]
    )
    try:
        await pc.setRemoteDescription(
            RTCSessionDescription(sdp=without_bandwidth_feedback(offer_sdp), type="offer")
        )
    except (ValueError, TypeError) as exc:
        raise LiveError(f"the offer cannot be used: {exc}", LiveRefusal.BAD_OFFER) from exc
    except Exception as exc:  # aiortc's OperationError: e.g. no VP8 in the offer
        raise LiveError(f"the offer cannot be answered: {exc}", LiveRefusal.BAD_OFFER) from exc
    if transceiver.mid is None:
        raise LiveError("the offer has no video section", LiveRefusal.BAD_OFFER)
    answer = await pc.createAnswer()
    await pc.setLocalDescription(answer)
    return transceiver.sender


def without_bandwidth_feedback(sdp: str) -> str:
    """`sdp` without what asks for bandwidth estimates (abs-send-time, REMB, transport-cc).

    The shared encoder's bitrate is the profile's, whoever watches: one viewer's estimate cannot
    change it, and each feedback packet costs the edge an SRTCP decryption per viewer (aiortc's own
    receiver sends a REMB for nearly every packet). An answer only takes what the offer has."""
    lines = sdp.splitlines(keepends=True)
    return "".join(line for line in lines if not _BANDWIDTH_FEEDBACK.match(line))


def _forward_keyframe_requests(sender: RTCRtpSender, stream: CameraStream) -> None:
    """A PLI or FIR from this viewer (it lost packets) asks the shared encoder for a keyframe.

    aiortc's sender handles PLI/FIR by setting a flag that only its own encoder reads, and we pass it
    encoded packets, so the request would be lost; `_send_keyframe` is the one place it learns of
    one, so we wrap it on this sender (the class has no hook for it)."""
    own = sender._send_keyframe

    def send_keyframe() -> None:
        own()
        stream.request_keyframe()

    sender._send_keyframe = send_keyframe  # type: ignore[method-assign]

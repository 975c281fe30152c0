"""A headless WebRTC viewer (aiortc): what checks a box's live view without a browser.

`ProbeViewer` offers to receive one video track, decodes what arrives and counts it; the tests and
bench.live watch the publisher with it. Run as a module it is a viewer in a process of its own,
signalled over stdin/stdout as JSON lines: it prints {"offers": [sdp, …]} (one per viewer), reads
{"answers": [sdp, …]}, receives until each viewer has decoded `--frames` frames or `--seconds` have
passed, and prints {"viewers": [{"frames": n, "width": w, "height": h}, …]}. It offers
loopback host candidates only and asks no ICE server, unless given another configuration (a viewer
that reaches the box through a TURN server only, as a browser behind a strict NAT).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import time

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from edge.live.ice import LOOPBACK, offer_host_addresses, rtc_configuration

logger = logging.getLogger(__name__)


class ProbeViewer:
    def __init__(self, *, keep_pictures: bool = True, configuration: RTCConfiguration | None = None) -> None:
        self.pc = RTCPeerConnection(configuration or rtc_configuration())
        self.pc.addTransceiver("video", direction="recvonly")
        self.keep_pictures = keep_pictures  # BGR copies cost CPU: the bench only counts
        self.frames = 0
        self.size: tuple[int, int] | None = None
        self.last_picture: np.ndarray | None = None
        self.first_picture: np.ndarray | None = None
        self._received = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self.pc.on("track", self._on_track)

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def accept(self, answer_sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))

    async def wait_frames(self, count: int, timeout: float) -> int:
        """Wait until `count` frames in all were decoded (or `timeout`); the number decoded."""
        async with self._received:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._received.wait_for(lambda: self.frames >= count), timeout)
        return self.frames

    async def send_picture_loss(self) -> None:
        """Send the sender a PLI, as a decoder does after a lost packet (aiortc's receiver has only
        this private method for it)."""
        receiver = self.pc.getReceivers()[0]
        report = await receiver.getStats()
        ssrcs = [s.ssrc for s in report.values() if s.type == "inbound-rtp"]
        for ssrc in ssrcs:
            await receiver._send_rtcp_pli(ssrc)

    async def close(self) -> None:
        await self.pc.close()
        if self._task is not None:
            self._task.cancel()

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._task = asyncio.ensure_future(self._receive(track))

    async def _receive(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not isinstance(frame, av.VideoFrame):
                continue
            async with self._received:
                self.frames += 1
                self.size = (frame.width, frame.height)
                if self.keep_pictures:
                    self.last_picture = frame.to_ndarray(format="bgr24")
                    if self.first_picture is None:
                        self.first_picture = self.last_picture
                self._received.notify_all()


async def _main(viewers: int, frames: int, seconds: float) -> None:
    offer_host_addresses([LOOPBACK])
    probes = [ProbeViewer(keep_pictures=False) for _ in range(viewers)]
    print(json.dumps({"offers": [await p.offer() for p in probes]}), flush=True)
    line = await asyncio.to_thread(sys.stdin.readline)
    for probe, answer in zip(probes, json.loads(line)["answers"], strict=True):
        await probe.accept(answer)
    deadline = time.monotonic() + seconds
    for probe in probes:
        await probe.wait_frames(frames, max(0.0, deadline - time.monotonic()))
    report = [
        {"frames": p.frames, "width": (p.size or (0, 0))[0], "height": (p.size or (0, 0))[1]} for p in probes
    ]
    print(json.dumps({"viewers": report}), flush=True)
    for probe in probes:
        await probe.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--viewers", type=int, default=1)
    parser.add_argument("--frames", type=int, default=10, help="stop once each viewer decoded this many")
    parser.add_argument("--seconds", type=float, default=30.0, help="stop after this long at the latest")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(_main(args.viewers, args.frames, args.seconds))


if __name__ == "__main__":
    main()

"""One VP8 encoder (libvpx through PyAV) and the picture it is given: masked, then scaled.

The encoder's packets go to aiortc as they are: `RTCRtpSender` only packetises an `av.Packet` a
track returns (`Vp8Encoder.pack`), so one encode serves every viewer. Its settings are aiortc's own
real-time ones (the browser's decoder expects them), on one thread: a hall box encodes many small
streams, where libvpx's threads cost more than they give.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import cv2
import numpy as np
from av.video.codeccontext import VideoCodecContext

from edge.live.config import LiveProfileConfig
from edge.video.capture import scale_frame
from edge.video.config import Polygon
from edge.video.privacy import apply_privacy_masks

logger = logging.getLogger(__name__)

TIME_BASE = Fraction(1, 90_000)  # RTP's video clock: aiortc converts packet times from it 1:1


@dataclass(frozen=True)
class EncodedFrame:
    packet: av.Packet[Any]  # shared by every viewer: read-only from here on
    keyframe: bool
    size: int  # bytes


def live_size(source: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The largest even size within `box` with the source's aspect ratio, never above the source."""
    width, height = source
    scale = min(box[0] / width, box[1] / height, 1.0)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def live_picture(image: np.ndarray, masks: Sequence[Polygon], box: tuple[int, int]) -> np.ndarray:
    """`image` (BGR) with its privacy masks black, scaled into `box`.

    Masked at the camera's resolution, before scaling: scaling first would smear a few pixels of
    what a mask covers into its border."""
    masked = apply_privacy_masks(image, masks) if masks else image
    return scale_frame(masked, live_size((image.shape[1], image.shape[0]), box))


class Vp8Encoder:
    """Encodes BGR pictures to VP8 packets; reopens itself when the picture size changes."""

    def __init__(self, profile: LiveProfileConfig, *, keyframe_interval_seconds: float) -> None:
        self.profile = profile
        self._gop = max(1, round(profile.fps * keyframe_interval_seconds))
        self._codec: VideoCodecContext | None = None
        self.frames = 0
        self.keyframes = 0

    def encode(self, picture: np.ndarray, *, seconds: float, keyframe: bool) -> EncodedFrame | None:
        """Encode one picture shown `seconds` after the stream began; None if libvpx held it back."""
        height, width = picture.shape[:2]
        if self._codec is None or (self._codec.width, self._codec.height) != (width, height):
            self._codec = self._open(width, height)
            keyframe = True  # a new stream starts with one anyway; say so
        yuv = np.asarray(cv2.cvtColor(picture, cv2.COLOR_BGR2YUV_I420), dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = round(seconds / TIME_BASE)
        frame.time_base = TIME_BASE
        if keyframe:
            frame.pict_type = av.video.frame.PictureType.I
        packets = self._codec.encode(frame)
        self.frames += 1
        if not packets:
            return None
        packet = packets[0] if len(packets) == 1 else _joined(packets)
        packet.pts = frame.pts  # the packet's own time in RTP's clock (libvpx may rescale)
        packet.time_base = TIME_BASE
        if packet.is_keyframe:
            self.keyframes += 1
        return EncodedFrame(packet=packet, keyframe=bool(packet.is_keyframe), size=packet.size)

    def close(self) -> None:
        self._codec = None

    def _open(self, width: int, height: int) -> VideoCodecContext:
        bitrate = self.profile.bitrate_kbps * 1000
        codec = av.CodecContext.create("libvpx", "w")
        assert isinstance(codec, VideoCodecContext)
        codec.width, codec.height = width, height
        codec.pix_fmt = "yuv420p"
        codec.time_base = TIME_BASE
        codec.framerate = Fraction(self.profile.fps).limit_denominator(1000)
        codec.bit_rate = bitrate
        codec.gop_size = self._gop
        codec.qmin, codec.qmax = 2, 56
        codec.thread_count = 1
        codec.options = {
            "bufsize": str(bitrate),
            "cpu-used": "-6",
            "deadline": "realtime",
            "lag-in-frames": "0",  # every frame out at once: no latency added
            "minrate": str(bitrate),
            "maxrate": str(bitrate),
            "noise-sensitivity": "4",
            "overshoot-pct": "15",
            "partitions": "0",
            "static-thresh": "1",
            "undershoot-pct": "100",
        }
        logger.info(
            "VP8 encoder opened: %dx%d at %g fps, %d kbps", width, height, self.profile.fps, bitrate // 1000
        )
        return codec


def _joined(packets: list[av.Packet[Any]]) -> av.Packet[Any]:
    """libvpx hands one packet per frame with lag-in-frames 0; join any more into one frame."""
    joined = av.Packet(b"".join(bytes(p) for p in packets))
    joined.is_keyframe = any(p.is_keyframe for p in packets)
    return joined

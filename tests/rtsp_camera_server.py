"""A hall's RTSP camera for the tests: GStreamer's RTSP server serving H.264 of a known moving picture.

Run with Debian's own interpreter (`/usr/bin/python3`, whose `gi` has GStreamer's bindings; the
project's venv has none), by tests/rtsp_camera.py, never imported by the tests. Debian packages:
gstreamer1.0-rtsp and gir1.2-gst-rtsp-server-1.0 (the server), -plugins-base (appsrc, videoconvert),
-plugins-ugly (x264enc), -plugins-good (rtph264pay), python3-gi.

    python3 tests/rtsp_camera_server.py --check          # prints what is missing, exit 1; or exit 0
    python3 tests/rtsp_camera_server.py --port 0 --path /cam --width 320 --height 240 --fps 10

It listens on 127.0.0.1 only, prints one JSON line per event on stdout ({"ready": port} first, then
{"event": "connected" | "session" | "closed"} for every RTSP client connection, session and
disconnection), and exits when its standard input closes (the test ended, or died). Each client gets
its own media, so each connection starts again at frame 0. Frame n is the picture of
tests/edge/video/cameras.py's `pattern_image(n, width, height)`: blue top half, red left quarter, a
white bar 8 pixels wide at x = 7 n mod (width - 8).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading

logger = logging.getLogger(__name__)

BLUE, RED, BLACK, WHITE = b"\xc8\x3c\x00", b"\x00\x00\xdc", b"\x00\x00\x00", b"\xff\xff\xff"  # BGR
# A keyframe every second: a client that connects starts decoding within a second, as with a camera.
ENCODER = "x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} bframes=0"
NEEDED = ("appsrc", "videoconvert", "x264enc", "rtph264pay")


def picture(number: int, width: int, height: int) -> bytes:
    """Frame `number` as packed BGR bytes (pure Python: Debian's python3 has no numpy)."""
    quarter, x = width // 4, (number * 7) % max(width - 8, 1)
    rows = []
    for rest in (BLUE, BLACK):
        row = bytearray(RED * quarter + rest * (width - quarter))
        bar = min(8, width - x)
        row[3 * x : 3 * (x + bar)] = WHITE * bar
        rows.append(bytes(row))
    return rows[0] * (height // 2) + rows[1] * (height - height // 2)


def emit(**event: object) -> None:
    print(json.dumps(event), flush=True)


def missing() -> str | None:
    """What this machine lacks to serve, or None."""
    try:
        import gi  # type: ignore[import-not-found,unused-ignore]

        gi.require_version("Gst", "1.0")
        gi.require_version("GstRtspServer", "1.0")
        from gi.repository import Gst, GstRtspServer  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
    except (ImportError, ValueError) as exc:
        return f"GStreamer's RTSP server for Python is not installed ({exc})"
    Gst.init(None)
    absent = [name for name in NEEDED if Gst.ElementFactory.find(name) is None]
    return f"GStreamer elements missing: {', '.join(absent)}" if absent else None


def serve(*, port: int, path: str, width: int, height: int, fps: int) -> None:
    import gi  # type: ignore[import-not-found,unused-ignore]

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer  # type: ignore[import-not-found,unused-ignore]

    Gst.init(None)
    caps = f"video/x-raw,format=BGR,width={width},height={height},framerate={fps}/1"
    launch = (
        f"( appsrc name=camera is-live=true do-timestamp=true format=time caps={caps} "
        f"! videoconvert ! video/x-raw,format=I420 ! {ENCODER.format(fps=fps)} "
        f"! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )

    def configure(_factory: object, media: GstRtspServer.RTSPMedia) -> None:
        """A client's media: push its frames in real time from the main loop (a live camera)."""
        appsrc = media.get_element().get_child_by_name("camera")
        count, gone = [0], threading.Event()
        media.connect("unprepared", lambda *_: gone.set())

        def push() -> bool:
            if gone.is_set():
                return False  # the client left: its media is torn down, the timer ends
            appsrc.emit("push-buffer", Gst.Buffer.new_wrapped(picture(count[0], width, height)))
            count[0] += 1
            return True

        GLib.timeout_add(max(1, round(1000 / fps)), push)

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.connect("media-configure", configure)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    server.get_mount_points().add_factory(path, factory)

    def connected(_server: object, client: GstRtspServer.RTSPClient) -> None:
        emit(event="connected")
        client.connect("new-session", lambda *_: emit(event="session"))
        client.connect("closed", lambda *_: emit(event="closed"))

    server.connect("client-connected", connected)
    if server.attach(None) == 0:
        sys.exit(f"cannot listen on 127.0.0.1:{port}")
    loop = GLib.MainLoop()

    def until_stdin_closes() -> None:
        sys.stdin.read()
        GLib.idle_add(loop.quit)

    threading.Thread(target=until_stdin_closes, daemon=True).start()
    emit(ready=server.get_bound_port())
    loop.run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--path", default="/cam")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fps", type=int, default=10)
    args = parser.parse_args()
    problem = missing()
    if args.check or problem:
        print(problem or "ready")
        sys.exit(1 if problem else 0)
    serve(port=args.port, path=args.path, width=args.width, height=args.height, fps=args.fps)


if __name__ == "__main__":
    main()

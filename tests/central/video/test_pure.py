"""The pure parts: reading a JPEG's size from its header (untrusted bytes), working hours at
central, and the timeline's segments and SVG."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from xml.etree import ElementTree

import cv2
import numpy as np
import pytest

from central.core.clock import SHANGHAI
from central.video.jpeg import JpegError, jpeg_size
from central.video.schedule import staffed_at, working_span
from central.video.timeline import Segment, TimelineRow, clip, covered_seconds, display_span, timeline_svg
from common.profiles.schema import PresenceRules
from common.worktime import WorkCalendar
from common.worktime.official import official_years
from tests.central.video.helpers import astronaut_jpeg


def test_jpeg_size_from_the_frame_header() -> None:
    assert jpeg_size(astronaut_jpeg()) == (320, 320)
    wide = np.zeros((90, 200, 3), dtype=np.uint8)
    for flags in ([], [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]):
        ok, encoded = cv2.imencode(".jpg", wide, flags)
        assert ok and jpeg_size(encoded.tobytes()) == (200, 90)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"GIF89a", "no SOI marker"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "ends before a frame header"),
        (b"\xff\xd8\x00\x00\x00\x00", "expected a marker at byte 2"),
        (b"\xff\xd8\xff\xda\x00\x08", "no frame header before the image data"),
        (b"\xff\xd8\xff\xc0\x00\x11\x08\x00\x00\x00\x10", "size of 16x0"),
        (b"\xff\xd8\xff\xe0\x00\x01", "bad segment length 1"),
    ],
)
def test_malformed_jpegs_say_what_is_wrong(data: bytes, problem: str) -> None:
    with pytest.raises(JpegError, match=problem):
        jpeg_size(data)


def test_staffed_time_follows_working_hours_breaks_and_working_days() -> None:
    rules = PresenceRules()  # 09:00-17:30, break 12:00-13:30
    calendar = WorkCalendar(official_years())

    def at(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)

    assert staffed_at(at(27, 10), rules, calendar) is True  # a Friday
    assert staffed_at(at(27, 8, 59), rules, calendar) is False
    assert staffed_at(at(27, 12, 30), rules, calendar) is False
    assert staffed_at(at(27, 17, 30), rules, calendar) is False
    assert staffed_at(at(28, 10), rules, calendar) is False  # Saturday
    assert staffed_at(datetime(2030, 1, 2, 10, tzinfo=SHANGHAI), rules, calendar) is None  # no calendar year
    assert working_span(rules) == (540, 1050)
    assert display_span((540, 1050)) == (480, 1140)


def test_segments_are_clipped_and_overlaps_counted_once() -> None:
    t0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    segments = [
        Segment("presence", t0 - timedelta(minutes=30), t0 + timedelta(minutes=10)),
        Segment("presence", t0 + timedelta(minutes=5), t0 + timedelta(minutes=20)),
        Segment("absence", t0 + timedelta(minutes=20), t0 + timedelta(hours=3), open=True),
    ]
    kept = clip(segments, t0, t0 + timedelta(hours=1))
    assert (kept[0].kind, kept[0].start, kept[0].end) == ("presence", t0, t0 + timedelta(minutes=10))
    assert covered_seconds(kept, "presence") == 20 * 60
    assert covered_seconds(kept, "absence") == 40 * 60


def test_the_svg_draws_one_bar_per_window_with_its_segments() -> None:
    day = date(2026, 11, 27)
    start = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
    rows = [
        TimelineRow(
            "1号窗口 <A&B>",
            "W01",
            [
                Segment("presence", start + timedelta(hours=9), start + timedelta(hours=9, minutes=50)),
                Segment(
                    "absence", start + timedelta(hours=9, minutes=50), start + timedelta(hours=10), open=True
                ),
            ],
        ),
        TimelineRow(
            "2号窗口",
            "W02",
            [Segment("camera_offline", start + timedelta(hours=9, minutes=30), start + timedelta(hours=10))],
        ),
    ]
    svg = timeline_svg(rows, day_start=start, span=(480, 1140), breaks=[(720, 810)], label="时间轴")
    root = ElementTree.fromstring(svg)  # well-formed, names escaped
    ns = {"s": "http://www.w3.org/2000/svg"}
    kinds = [rect.get("data-kind") for rect in root.iterfind(".//s:rect[@data-kind]", ns)]
    assert kinds == ["presence", "absence", "camera_offline"]
    presence = root.find(".//s:rect[@data-kind='presence']", ns)
    assert presence is not None
    assert float(presence.get("x", 0)) == pytest.approx(150 + 800 * 60 / 660, abs=0.1)  # 09:00 of 08:00-19:00
    assert "在岗 09:00–09:50" in "".join(presence.itertext())
    assert "离岗 09:50–现在" in svg and "1号窗口 &lt;A&amp;B&gt;" in svg

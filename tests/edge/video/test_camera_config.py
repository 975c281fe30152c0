"""The camera, window, analysis and display sections of an edge config: strict, every problem with its
place and line, defaults from the rule profile."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from edge.configfile import EdgeConfigError, parse_edge_config
from edge.video.config import (
    FileSource,
    GeneratedSource,
    OpenCVDetectorConfig,
    StreamSource,
    YoloDetectorConfig,
)
from edge.video.schedule import schedule_for

GOOD = """\
hall: 510000-ZWFW
central:
  url: http://127.0.0.1:8000
cameras:
  - name: CAM-A
    source: {type: stream, url: "rtsp://10.0.0.5/stream1"}
  - name: CAM-B
    source: {type: file, path: clips/hall.avi}
    analysis_fps: 1
  - name: CAM-C
    source: {type: generated, seed: 7}
analysis:
  detector: {type: yolo, weights: /opt/hallwatch/yolo11n.pt}
windows:
  - name: W01
    camera: CAM-A
    staff_region: [[0.1, 0.2], [0.4, 0.2], [0.4, 0.6], [0.1, 0.6]]
    customer_region: [[0.1, 0.6], [0.4, 0.6], [0.4, 1.0], [0.1, 1.0]]
    privacy_masks:
      - [[0.3, 0.3], [0.4, 0.3], [0.4, 0.4]]
  - name: W02
    camera: CAM-C
    staff_region: [[0.5, 0.2], [0.9, 0.2], [0.9, 0.6]]
    customer_region: [[0.5, 0.6], [0.9, 0.6], [0.9, 1.0]]
    working_hours: ["08:30-12:00", "14:00-18:00"]
    breaks: []
    absence_threshold_minutes: 5
displays:
  - name: TV-1
"""


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(EdgeConfigError) as caught:
        parse_edge_config(text, origin="t.yaml")
    return [(p.line, p.place, p.message) for p in caught.value.problems]


def test_a_good_file_parses_each_source_and_detector_type() -> None:
    config = parse_edge_config(GOOD)
    a, b, c = config.cameras
    assert isinstance(a.source, StreamSource) and isinstance(b.source, FileSource)
    assert isinstance(c.source, GeneratedSource) and c.source.seed == 7
    assert (a.analysis_fps, b.analysis_fps, a.width, a.height) == (2.0, 1.0, 640, 360)
    assert isinstance(config.analysis.detector, YoloDetectorConfig)
    assert config.windows[0].privacy_masks[0][2] == (0.4, 0.4)
    assert config.displays[0].kind == "tv"
    default = parse_edge_config(
        GOOD.replace("  detector: {type: yolo, weights: /opt/hallwatch/yolo11n.pt}\n", "  {}\n").replace(
            "analysis:\n  {}\n", ""
        )
    )
    assert isinstance(default.analysis.detector, OpenCVDetectorConfig)


def test_window_hours_default_from_the_profile_and_may_be_overridden() -> None:
    config = parse_edge_config(GOOD)
    w01, w02 = (schedule_for(w, config.profile) for w in config.windows)
    # sichuan-2011: 09:00-17:30 with a 12:00-13:30 break, 10 minutes.
    assert [str(p) for p in w01.working_hours] == ["09:00-17:30"] and [str(p) for p in w01.breaks] == [
        "12:00-13:30"
    ]
    assert w01.absence_threshold_seconds == 600 and w01.visit_min_seconds == 60
    assert [str(p) for p in w02.working_hours] == ["08:30-12:00", "14:00-18:00"] and w02.breaks == ()
    assert w02.absence_threshold_seconds == 300


@pytest.mark.parametrize(
    ("moment", "staffed"),
    [
        (datetime(2026, 11, 27, 1, 30, tzinfo=UTC), True),  # Fri 09:30 in Shanghai
        (datetime(2026, 11, 27, 4, 30, tzinfo=UTC), False),  # 12:30, the lunch break
        (datetime(2026, 11, 27, 9, 31, tzinfo=UTC), False),  # 17:31, closed
        (datetime(2026, 11, 28, 1, 30, tzinfo=UTC), False),  # Saturday
        (datetime(2026, 10, 1, 1, 30, tzinfo=UTC), False),  # National Day, a Thursday
        (datetime(2026, 9, 27, 1, 30, tzinfo=UTC), False),  # a Sunday (2026 has no make-up day then)
    ],
)
def test_staffed_time_follows_hours_breaks_and_the_official_calendar(moment: datetime, staffed: bool) -> None:
    config = parse_edge_config(GOOD)
    assert schedule_for(config.windows[0], config.profile).is_staffed_time(moment) is staffed


def test_a_hall_open_at_weekends_judges_every_day() -> None:
    config = parse_edge_config(GOOD.replace("    breaks: []\n", "    breaks: []\n    working_days: all\n"))
    saturday = datetime(2026, 11, 28, 1, 30, tzinfo=UTC)
    assert schedule_for(config.windows[1], config.profile).is_staffed_time(saturday)
    assert not schedule_for(config.windows[0], config.profile).is_staffed_time(saturday)


def test_next_change_is_the_next_edge_of_a_period() -> None:
    config = parse_edge_config(GOOD)
    schedule = schedule_for(config.windows[0], config.profile)
    after = schedule.next_change(datetime(2026, 11, 27, 1, 30, tzinfo=UTC))
    assert after.time() == time(12, 0)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("source: {type: generated, seed: 7}", "source: {type: webcam}"),
            (
                11,
                "cameras[2].source",
                "type must be one of 'stream', 'device', 'file', 'generated', got 'webcam'",
            ),
        ),
        (
            ("path: clips/hall.avi}", "path: clips/hall.avi, lop: true}"),
            (8, "cameras[1].source.lop", "unknown key 'lop'; did you mean 'loop'? allowed: loop, path, type"),
        ),
        (
            ("name: CAM-B", "name: CAM-A"),
            (7, "cameras[1].name", "name 'CAM-A' is already used by cameras[0]"),
        ),
        (
            ("    camera: CAM-C", "    camera: CAM-Z"),
            (22, "windows[1].camera", "no camera 'CAM-Z' in cameras (known: CAM-A, CAM-B, CAM-C)"),
        ),
        (
            ('["08:30-12:00", "14:00-18:00"]', '["08:30-12:00", "11:00-18:00"]'),
            (25, "windows[1].working_hours[1]", "11:00-18:00 overlaps 08:30-12:00"),
        ),
        (
            ('"14:00-18:00"', '"18:00-14:00"'),
            (
                25,
                "windows[1].working_hours[1]",
                "Value error, the period ends (14:00) before it starts (18:00)",
            ),
        ),
        (
            ("[0.4, 0.6], [0.1, 0.6]]", "[0.4, 1.6], [0.1, 0.6]]"),
            (
                17,
                "windows[0].staff_region[2][1]",
                "Input should be less than or equal to 1 (points are relative: x and y from 0 to 1)",
            ),
        ),
        (
            ("[[0.5, 0.2], [0.9, 0.2], [0.9, 0.6]]", "[[0.5, 0.2], [0.9, 0.2]]"),
            (23, "windows[1].staff_region", "List should have at least 3 items after validation, not 2"),
        ),
        (
            ("{type: yolo, weights: /opt/hallwatch/yolo11n.pt}", "{type: yolo}"),
            (13, "analysis.detector.weights", "missing required key 'weights'"),
        ),
        (("rtsp://10.0.0.5/stream1", "ftp://10.0.0.5/x"), (6, "cameras[0].source.url", None)),
        (("hall: 510000-ZWFW", "hall: 510000-ZWFW\nprofile: atlantis-2030"), (2, "profile", None)),
    ],
)
def test_each_problem_has_its_place(
    change: tuple[str, str], expected: tuple[int | None, str, str | None]
) -> None:
    old, new = change
    assert old in GOOD
    [(line, place, message)] = problems(GOOD.replace(old, new, 1))
    assert (line, place) == expected[:2]
    if expected[2] is not None:
        assert message == expected[2]


def test_duplicate_windows_are_found_beside_other_problems() -> None:
    text = GOOD.replace("  - name: W02", "  - name: W01").replace("analysis_fps: 1", "analysis_fps: 0")
    found = {(place, message) for _, place, message in problems(text)}
    assert ("windows[1].name", "name 'W01' is already used by windows[0]") in found
    assert any(place == "cameras[1].analysis_fps" for place, _ in found)

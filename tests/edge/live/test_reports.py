"""The edge's report of an ended live view (`live_view`, a patrol's proof of viewing): built through
the contract's model, for a view that sent frames and for one that never did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from common.contract import LiveViewIn
from edge.live.publisher import ViewerStats
from edge.live.reports import view_report

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def stats(frames: int, **changes: object) -> ViewerStats:
    base: dict[str, object] = {
        "viewer": "abc123",
        "camera": "CAM-1",
        "profile": "tile",
        "started_at": T0,
        "ended_at": T0 + timedelta(seconds=60),
        "state": "closed",
        "frames_sent": frames,
        "keyframes_sent": min(frames, 2),
        "packets_sent": frames * 3,
        "bytes_sent": frames * 2000,
        "frames_dropped": 0,
        "first_frame_at": T0 + timedelta(seconds=1) if frames else None,
        "last_frame_at": T0 + timedelta(seconds=59) if frames else None,
    }
    return ViewerStats(**(base | changes))  # type: ignore[arg-type]


def test_a_view_that_sent_frames_reports_its_counts_and_times() -> None:
    report = view_report(stats(290))
    parsed = LiveViewIn.model_validate(report)
    assert report["id"] == "live:abc123" and report["kind"] == "live_view"
    assert (parsed.frames_sent, parsed.packets_sent) == (290, 870)
    assert parsed.last_frame_at is not None and parsed.first_frame_at is not None
    assert (parsed.last_frame_at - parsed.first_frame_at).total_seconds() == 58


def test_a_view_that_never_got_a_frame_reports_zero_and_no_frame_times() -> None:
    parsed = LiveViewIn.model_validate(view_report(stats(0)))
    assert parsed.frames_sent == 0 and parsed.first_frame_at is None and parsed.last_frame_at is None


def test_a_view_still_open_at_stop_is_reported_as_ending_when_it_began_at_the_latest() -> None:
    parsed = LiveViewIn.model_validate(view_report(stats(0, ended_at=None)))
    assert parsed.ended_at == parsed.started_at

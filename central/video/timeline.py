"""A window's day as segments (presence green, absence red, camera offline grey), and the hall's
timeline as one server-rendered SVG — no script, no chart library (pure functions, no I/O).

Overlaps are drawn in order presence, absence, camera offline: an offline camera covers what it
cannot have seen, so the bar never shows a live state for a dead camera (SC-5(5)).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from central.core.clock import SHANGHAI
from central.video.schedule import Span

logger = logging.getLogger(__name__)

KINDS = ("presence", "absence", "camera_offline")
KIND_LABELS = {"presence": "在岗", "absence": "离岗", "camera_offline": "摄像机离线"}
COLORS = {"presence": "#2e7d32", "absence": "#c62828", "camera_offline": "#9e9e9e"}
LABEL_WIDTH, BAR_WIDTH, ROW_HEIGHT, BAR_HEIGHT, AXIS_HEIGHT = 150, 800, 26, 16, 22


@dataclass(frozen=True)
class Segment:
    kind: str  # presence | absence | camera_offline
    start: datetime
    end: datetime
    open: bool = False  # still going on: drawn up to now

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def clip(segments: Sequence[Segment], start: datetime, end: datetime) -> list[Segment]:
    """The parts of `segments` inside [start, end), in time order."""
    kept = [
        Segment(s.kind, max(s.start, start), min(s.end, end), s.open)
        for s in segments
        if s.end > start and s.start < end
    ]
    return sorted(kept, key=lambda s: (s.start, KINDS.index(s.kind)))


def covered_seconds(segments: Sequence[Segment], kind: str) -> float:
    """Seconds covered by segments of one kind, overlaps counted once."""
    total, reach = 0.0, None
    for s in sorted((s for s in segments if s.kind == kind), key=lambda s: s.start):
        begin = s.start if reach is None else max(s.start, reach)
        if s.end > begin:
            total += (s.end - begin).total_seconds()
        reach = s.end if reach is None else max(reach, s.end)
    return total


def display_span(working: Span, margin_minutes: int = 60) -> Span:
    """The part of the day the bar shows: working hours with a margin, whole hours."""
    start = max(0, (working[0] - margin_minutes) // 60 * 60)
    end = min(1440, -(-(working[1] + margin_minutes) // 60) * 60)
    return start, end


@dataclass(frozen=True)
class TimelineRow:
    label: str
    code: str
    segments: Sequence[Segment]


def timeline_svg(
    rows: Sequence[TimelineRow], *, day_start: datetime, span: Span, breaks: Sequence[Span], label: str
) -> str:
    """One bar per window over `span` of the day that starts at `day_start` (Shanghai midnight)."""
    origin = day_start + timedelta(minutes=span[0])
    minutes = span[1] - span[0]
    width = LABEL_WIDTH + BAR_WIDTH + 24  # room for the last hour label
    height = AXIS_HEIGHT + ROW_HEIGHT * max(len(rows), 1) + 4

    def x(moment: datetime) -> float:
        offset = (moment - origin).total_seconds() / 60
        return LABEL_WIDTH + BAR_WIDTH * min(max(offset, 0), minutes) / minutes

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" class="video-timeline">',
        f"<title>{escape(label)}</title>",
    ]
    parts += _axis(span, origin, x, height)
    for index, row in enumerate(rows):
        top = AXIS_HEIGHT + index * ROW_HEIGHT
        parts += _row(row, top, origin, span, breaks, x)
    parts.append("</svg>")
    return "".join(parts)


def _axis(span: Span, origin: datetime, x: Callable[[datetime], float], height: int) -> list[str]:
    parts = []
    for minute in range(span[0], span[1] + 1, 60):
        left = x(origin + timedelta(minutes=minute - span[0]))
        parts.append(
            f'<line x1="{left:.1f}" y1="{AXIS_HEIGHT - 4}" x2="{left:.1f}" y2="{height - 2}" stroke="#ddd"/>'
            f'<text x="{left:.1f}" y="{AXIS_HEIGHT - 8}" font-size="11" text-anchor="middle" fill="#555">'
            f"{minute // 60:02d}:00</text>"
        )
    return parts


def _row(
    row: TimelineRow,
    top: int,
    origin: datetime,
    span: Span,
    breaks: Sequence[Span],
    x: Callable[[datetime], float],
) -> list[str]:
    bar_top = top + (ROW_HEIGHT - BAR_HEIGHT) / 2
    parts = [
        f'<g data-window="{escape(row.code)}">',
        f'<text x="{LABEL_WIDTH - 8}" y="{bar_top + BAR_HEIGHT - 3:.1f}" font-size="12" text-anchor="end" '
        f'fill="#222">{escape(row.label)}</text>',
        f'<rect x="{LABEL_WIDTH}" y="{bar_top:.1f}" width="{BAR_WIDTH}" height="{BAR_HEIGHT}" fill="#f3f3f3"/>',
    ]
    for start, end in breaks:
        left, right = (x(origin + timedelta(minutes=m - span[0])) for m in (start, end))
        parts.append(
            f'<rect x="{left:.1f}" y="{bar_top:.1f}" width="{right - left:.1f}" height="{BAR_HEIGHT}" '
            'fill="#e3e8f0"><title>休息时间</title></rect>'
        )
    for kind in KINDS:
        for segment in (s for s in row.segments if s.kind == kind):
            left, right = x(segment.start), x(segment.end)
            if right - left <= 0:
                continue
            tip = f"{KIND_LABELS[kind]} {_hm(segment.start)}–{'现在' if segment.open else _hm(segment.end)}"
            parts.append(
                f'<rect data-kind="{kind}" x="{left:.1f}" y="{bar_top:.1f}" width="{max(right - left, 1):.1f}" '
                f'height="{BAR_HEIGHT}" fill="{COLORS[kind]}"><title>{escape(tip)}</title></rect>'
            )
    parts.append("</g>")
    return parts


def _hm(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%H:%M")

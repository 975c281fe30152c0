"""Proof of viewing (issue 15 item 4; RULES "virtual operation"): a patrol counts toward the quota only
when the inspector's browser decoded the hall's video for at least the profile's minimum time and the
edge's own count of what it sent that viewer agrees.

Pure: the views' counts in, a verdict out. Each view is credited with the stretch of time the edge
sent it frames (its first to its last frame, in the edge's clock), scaled by the share of those frames
the browser says it decoded: a browser that stopped playing half-way is credited half. A browser that
claims more frames or packets than the edge sent cannot be believed at all, and the whole patrol is
incomplete. The patrol's viewing time is the union of its views' credited stretches: twenty tiles
watched side by side for a minute are a minute, not twenty.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

logger = logging.getLogger(__name__)

PACKET_SLACK = 5  # RTP packets a browser may count beyond the edge's final figure (a last retransmit)


@dataclass(frozen=True)
class EdgeCounts:
    first_frame_at: datetime | None
    last_frame_at: datetime | None
    frames_sent: int
    packets_sent: int


@dataclass(frozen=True)
class ViewCounts:
    viewer: str
    camera: str
    frames_decoded: int  # the browser's report (0 when it never reported)
    packets_received: int
    edge: EdgeCounts | None  # None until the edge's report arrives


@dataclass(frozen=True)
class Proof:
    complete: bool
    watched_seconds: float
    reasons: tuple[str, ...]  # why incomplete, zh-CN, for the inspector and the auditor
    cameras: tuple[str, ...]  # cameras with credited viewing


def awaiting_edge(views: Sequence[ViewCounts]) -> bool:
    """Whether a view the browser says it watched still lacks the edge's report."""
    return any(v.edge is None and (v.frames_decoded or v.packets_received) for v in views)


def judge(views: Sequence[ViewCounts], *, min_seconds: float) -> Proof:
    """The verdict on a patrol's views, as far as the edge has reported (a view the edge never
    reported is credited nothing and named)."""
    reasons: list[str] = []
    spans: list[tuple[datetime, datetime]] = []
    cameras: set[str] = set()
    for view in views:
        problem = _disagreement(view)
        if problem is not None:
            reasons.append(problem)
            continue
        span = credited_span(view)
        if span is not None:
            spans.append(span)
            cameras.add(view.camera)
    watched = union_seconds(spans)
    if any(_disagreement(v) and v.edge is not None for v in views):
        return Proof(False, watched, tuple(reasons), tuple(sorted(cameras)))
    if not any(v.frames_decoded for v in views):
        reasons.insert(0, "浏览器未解码任何画面（视频从未播放）")
    elif watched < min_seconds:
        reasons.insert(0, f"有效观看 {watched:.0f} 秒，不足 {min_seconds:.0f} 秒")
    complete = watched >= min_seconds and any(v.frames_decoded for v in views)
    return Proof(complete, watched, () if complete else tuple(reasons), tuple(sorted(cameras)))


def credited_span(view: ViewCounts) -> tuple[datetime, datetime] | None:
    """The stretch of edge time this view is credited with, or None."""
    edge = view.edge
    if edge is None or edge.first_frame_at is None or edge.last_frame_at is None or not edge.frames_sent:
        return None
    share = min(1.0, view.frames_decoded / edge.frames_sent)
    if share <= 0:
        return None
    return edge.first_frame_at, edge.first_frame_at + (edge.last_frame_at - edge.first_frame_at) * share


def union_seconds(spans: Sequence[tuple[datetime, datetime]]) -> float:
    """Seconds covered by at least one span."""
    total, reach = 0.0, None
    for start, end in sorted(spans):
        if reach is None or start > reach:
            total += (end - start).total_seconds()
            reach = end
        elif end > reach:
            total += (end - reach).total_seconds()
            reach = end
    return total


def _disagreement(view: ViewCounts) -> str | None:
    label = f"摄像机 {view.camera} 的视图 {view.viewer[:8]}"
    edge = view.edge
    if edge is None:
        if view.frames_decoded or view.packets_received:
            return f"{label}：边缘端未报告发送计数，无法核对"
        return None
    if view.frames_decoded > edge.frames_sent:
        return f"{label}：浏览器上报解码 {view.frames_decoded} 帧，多于边缘端发送的 {edge.frames_sent} 帧"
    if view.packets_received > edge.packets_sent + PACKET_SLACK:
        return (
            f"{label}：浏览器上报接收 {view.packets_received} 个数据包，"
            f"多于边缘端发送的 {edge.packets_sent} 个"
        )
    return None

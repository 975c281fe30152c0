"""Proof of viewing (issue 15 item 4), the pure verdict: tables of the cases an auditor asks about,
and properties over generated views (hypothesis): credit never exceeds what the edge sent, side by
side views count once, and a browser claiming more than the edge sent is never believed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.patrols.proof import EdgeCounts, ViewCounts, awaiting_edge, judge, union_seconds

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def edge(seconds: float, frames: int, packets: int | None = None, *, start: float = 0) -> EdgeCounts:
    first = T0 + timedelta(seconds=start)
    return EdgeCounts(
        first_frame_at=first if frames else None,
        last_frame_at=first + timedelta(seconds=seconds) if frames else None,
        frames_sent=frames,
        packets_sent=packets if packets is not None else frames * 2,
    )


def view(decoded: int, received: int, counts: EdgeCounts | None, camera: str = "CAM-1") -> ViewCounts:
    return ViewCounts(
        viewer=f"v-{camera}", camera=camera, frames_decoded=decoded, packets_received=received, edge=counts
    )


@pytest.mark.parametrize(
    ("views", "complete", "watched", "reason"),
    [
        ([view(750, 1500, edge(150, 750))], True, 150, None),
        ([view(600, 1200, edge(150, 750))], True, 120, None),  # stopped playing at 80 %: credited 80 %
        ([view(300, 600, edge(150, 750))], False, 60, "有效观看 60 秒，不足 120 秒"),
        ([view(0, 0, edge(150, 750))], False, 0, "浏览器未解码任何画面"),  # the video never played
        ([], False, 0, "浏览器未解码任何画面"),
        ([view(800, 1500, edge(150, 750))], False, 0, "多于边缘端发送的 750 帧"),  # more than sent
        ([view(750, 1600, edge(150, 750, 1500))], False, 0, "多于边缘端发送的 1500 个"),
        ([view(750, 1504, edge(150, 750, 1500))], True, 150, None),  # within the packet slack
        ([view(750, 1500, None)], False, 0, "边缘端未报告发送计数"),  # the edge never reported
        (  # side by side: counted once
            [view(750, 1500, edge(150, 750), "CAM-1"), view(750, 1500, edge(150, 750), "CAM-2")],
            True,
            150,
            None,
        ),
        (  # one after the other: added
            [view(350, 700, edge(70, 350), "CAM-1"), view(350, 700, edge(70, 350, start=80), "CAM-2")],
            True,
            140,
            None,
        ),
        (  # one forged view spoils the patrol, however long the others
            [view(750, 1500, edge(150, 750), "CAM-1"), view(9, 10, edge(1, 5), "CAM-2")],
            False,
            150,
            "CAM-2",
        ),
    ],
)
def test_verdicts(views: list[ViewCounts], complete: bool, watched: float, reason: str | None) -> None:
    proof = judge(views, min_seconds=120)
    assert proof.complete is complete
    assert proof.watched_seconds == pytest.approx(watched)
    if reason is None:
        assert proof.reasons == ()
    else:
        assert any(reason in r for r in proof.reasons), proof.reasons


def test_a_patrol_waits_for_the_edge_only_for_views_the_browser_says_it_watched() -> None:
    assert awaiting_edge([view(10, 20, None)])
    assert not awaiting_edge([view(0, 0, None)])  # never played: nothing to wait for
    assert not awaiting_edge([view(10, 20, edge(2, 10))])


spans = st.lists(
    st.tuples(st.floats(0, 1000), st.floats(0, 300)).map(
        lambda p: (T0 + timedelta(seconds=p[0]), T0 + timedelta(seconds=p[0] + p[1]))
    ),
    max_size=12,
)


@given(spans)
def test_the_union_is_at_most_the_sum_and_at_least_the_longest(
    items: list[tuple[datetime, datetime]],
) -> None:
    lengths = [(end - start).total_seconds() for start, end in items]
    total = union_seconds(items)
    assert total <= sum(lengths) + 1e-6
    assert total >= max(lengths, default=0) - 1e-6
    assert union_seconds(items + items) == pytest.approx(total)  # a view counted twice adds nothing


views_st = st.builds(
    lambda sent, seconds, decoded_share, extra, cam: view(
        min(sent, int(sent * decoded_share)) + extra,
        0,
        edge(seconds, sent),
        cam,
    ),
    st.integers(1, 5000),
    st.floats(0.1, 600),
    st.floats(0, 1),
    st.integers(0, 3),
    st.sampled_from(["CAM-1", "CAM-2", "CAM-3"]),
)


@given(st.lists(views_st, max_size=8), st.integers(0, 600))
def test_credit_never_exceeds_what_the_edge_sent_and_forgery_never_counts(
    views: list[ViewCounts], minimum: int
) -> None:
    proof = judge(views, min_seconds=minimum)
    longest = (
        max(
            (v.edge.last_frame_at - v.edge.first_frame_at).total_seconds()
            for v in views
            if v.edge and v.edge.first_frame_at and v.edge.last_frame_at
        )
        if views
        else 0
    )
    assert proof.watched_seconds <= longest + 1e-6  # all start at T0 here: the union is the longest
    forged = any(v.edge is not None and v.frames_decoded > v.edge.frames_sent for v in views)
    if forged:
        assert not proof.complete
    if proof.complete:
        assert proof.watched_seconds >= minimum and proof.reasons == ()

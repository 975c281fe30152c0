"""The `live:` section of the edge config: strict, with the defaults a hall box needs."""

from __future__ import annotations

import pytest

from edge.configfile import EdgeConfigError, parse_edge_config
from edge.live.config import LiveConfig

BASE = """\
hall: 510000-ZWFW
central:
  url: https://central.example.gov.cn
"""


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(EdgeConfigError) as caught:
        parse_edge_config(text, origin="t.yaml")
    return [(p.line, p.place, p.message) for p in caught.value.problems]


def test_no_section_is_no_live_view_and_an_empty_one_is_the_defaults() -> None:
    assert parse_edge_config(BASE).live is None
    live = parse_edge_config(BASE + "live: {}\n").live
    assert live == LiveConfig() and live.enabled and live.host_addresses is None
    assert (live.tile.width, live.tile.height, live.tile.fps) == (320, 180, 5)
    assert (live.focus.width, live.focus.height, live.focus.fps) == (1280, 720, 15)
    assert live.profile("tile") == live.tile and live.profile("focus") == live.focus


def test_unknown_keys_and_bad_values_are_named_with_their_line() -> None:
    found = problems(
        BASE + "live:\n  focus:\n    width: 1280\n    height: 720\n    fps: 15\n    bitrat_kbps: 900\n"
    )
    unknown = [(line, message) for line, place, message in found if place == "live.focus.bitrat_kbps"]
    assert unknown and unknown[0][0] == 9 and "did you mean 'bitrate_kbps'" in unknown[0][1]
    found = problems(
        BASE
        + "live:\n  max_viewers_per_camera: 0\n  tile: {width: 321, height: 180, fps: 5, bitrate_kbps: 150}\n"
    )
    assert {place for _, place, _ in found} == {"live.max_viewers_per_camera", "live.tile.width"}


def test_a_tile_larger_than_the_focus_view_is_refused() -> None:
    text = BASE + "live:\n  tile: {width: 1920, height: 1080, fps: 5, bitrate_kbps: 150}\n"
    ((_, place, message),) = problems(text)
    assert place == "live.tile" and "larger than the focus" in message


def test_host_addresses_are_addresses() -> None:
    assert problems(BASE + "live:\n  host_addresses: [localhost]\n")[0][1] == "live.host_addresses[0]"

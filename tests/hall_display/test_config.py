"""A display's section of the hall config: one schema for the edge agent (which validates it) and the
display agent (which runs it); every problem with its place and line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from common.display_config import DisplayConfig
from edge.configfile import EdgeConfigError, parse_edge_config
from hall_display.cli import app as display_app
from hall_display.config import (
    DisplayConfigError,
    DisplayKeyError,
    load_display_config,
    parse_all_displays,
    parse_display_config,
    resolve_key,
)

HEAD = """\
hall: 510000-ZWFW
central:
  url: http://127.0.0.1:8000
  poll_wait_seconds: 25
"""
DISPLAYS = """\
displays:
  - name: TV-1
  - name: LED-1
    kind: led
    listen_port: 8091
    led: {width: 192, height: 32, speed_px_per_second: 40}
    browser: {launch: true, extra_args: [--disable-gpu]}
  - name: KIOSK-1
    kind: kiosk
    url: http://10.0.0.5:8092/kiosk
    kiosk: {idle_seconds: 90}
    key_file: /etc/hallwatch/kiosk.key
    cache_dir: /var/lib/hallwatch/kiosk
"""
GOOD = HEAD + DISPLAYS


def problems(text: str, display: str | None = None) -> list[tuple[int | None, str, str]]:
    with pytest.raises(DisplayConfigError) as caught:
        parse_display_config(text, display, origin="t.yaml")
    return [(p.line, p.place, p.message) for p in caught.value.problems]


def test_each_display_gets_its_defaults() -> None:
    tv = parse_display_config(GOOD, "TV-1")
    assert (tv.hall, tv.central_url, tv.page_path) == ("510000-ZWFW", "http://127.0.0.1:8000", "/board")
    d = tv.display
    assert (d.kind, d.listen_host, d.listen_port, d.key_env, d.reconnect_max_seconds) == (
        "tv",
        "127.0.0.1",
        8090,
        "HALLWATCH_DISPLAY_KEY",
        15.0,
    )
    assert d.cache_path == Path("var/display-TV-1") and tv.browser_url == "http://127.0.0.1:8090/board"
    led = parse_display_config(GOOD, "LED-1")
    assert (led.display.led.width, led.display.led.height, led.display.led.font_px) == (192, 32, None)
    assert led.display.browser.launch and led.local_url == "http://127.0.0.1:8091/marquee"
    kiosk = parse_display_config(GOOD, "KIOSK-1")
    assert kiosk.display.kiosk.idle_seconds == 90 and kiosk.browser_url == "http://10.0.0.5:8092/kiosk"
    assert kiosk.display.cache_path == Path("/var/lib/hallwatch/kiosk")
    assert [s.display.name for s in parse_all_displays(GOOD)] == ["TV-1", "LED-1", "KIOSK-1"]
    assert parse_display_config(HEAD + "displays:\n  - {name: ONLY, kind: kiosk}\n").display.name == "ONLY"


def test_the_edge_validates_the_same_schema() -> None:
    config = parse_edge_config(GOOD)
    assert config.displays[1] == parse_display_config(GOOD, "LED-1").display
    with pytest.raises(EdgeConfigError) as caught:
        parse_edge_config(GOOD.replace("speed_px_per_second", "speed_px_per_sec"))
    (problem,) = caught.value.problems
    assert (problem.line, problem.place) == (10, "displays[1].led.speed_px_per_sec")
    assert "did you mean 'speed_px_per_second'?" in problem.message


@pytest.mark.parametrize(
    ("old", "new", "display", "expected"),
    [
        ("- name: TV-1", "- name: TV 1", "LED-1", []),  # another display's problem is not this one's
        (
            "width: 192",
            "width: 16",
            "LED-1",
            [(10, "displays[1].led.width", "Input should be greater than or equal to 32")],
        ),
        (
            "speed_px_per_second: 40}",
            "speed_px_per_second: 40, font_px: 40}",
            "LED-1",
            [(10, "displays[1].led.font_px", "font_px (40) is more than the height (32)")],
        ),
        (
            "listen_port: 8091",
            "listen_port: 80",
            "LED-1",
            [(9, "displays[1].listen_port", "Input should be greater than or equal to 1024")],
        ),
        (
            "kind: led",
            "kind: lcd",
            "LED-1",
            [(8, "displays[1].kind", "Input should be 'led', 'tv' or 'kiosk'")],
        ),
        (
            "kind: led",
            "kind: tv",
            "LED-1",
            [(10, "displays[1].led", "led settings are for kind led; this display is kind tv")],
        ),
        (
            "extra_args: [--disable-gpu]",
            "extra_args: [disable-gpu]",
            "LED-1",
            [(11, "displays[1].browser.extra_args[0]", "'disable-gpu' is not a switch: each starts with --")],
        ),
        (
            "idle_seconds: 90",
            "idle_seconds: 5",
            "KIOSK-1",
            [(15, "displays[2].kiosk.idle_seconds", "Input should be greater than or equal to 10")],
        ),
        (
            "    key_file: /etc/hallwatch/kiosk.key",
            "    key_file: /etc/hallwatch/kiosk.key\n    key_env: KIOSK_KEY",
            "KIOSK-1",
            [(16, "displays[2].key_file", "give key_env or key_file, not both")],
        ),
        (
            "idle_seconds: 90}",
            "idle_seconds: 90}\n    colour: red",
            "KIOSK-1",
            [(16, "displays[2].colour", "unknown key 'colour'; allowed: browser, cache_dir, ")],
        ),
        (
            "url: http://10.0.0.5:8092/kiosk",
            "url: ftp://x",
            "KIOSK-1",
            [(14, "displays[2].url", "String should match pattern '^https?://'")],
        ),
        (
            "url: http://127.0.0.1:8000",
            "url: not-a-url",
            "TV-1",
            [(3, "central.url", "Input should be a valid URL, relative URL without a base")],
        ),
        (
            "hall: 510000-ZWFW",
            "hall: 510000 ZWFW",
            "TV-1",
            [(1, "hall", "'510000 ZWFW' is not a code: letters, digits, '_', '.', '-' only, no spaces")],
        ),
        ("hall: 510000-ZWFW\n", "", "TV-1", [(1, "hall", "missing required key 'hall'")]),
        ("", "", "TV-9", [(5, "displays", "no display named 'TV-9' (known: TV-1, LED-1, KIOSK-1)")]),
        ("", "", None, [(5, "displays", "3 displays (TV-1, LED-1, KIOSK-1): choose one with --display")]),
        (
            "  poll_wait_seconds: 25",
            "  poll_wait_seconds: 25\n  poll_wait_seconds: 20",
            "TV-1",
            [],
        ),  # the edge's to report
        (
            "  - name: TV-1",
            "  - name: TV-1\n    kind: tv\n    kind: led",
            "TV-1",
            [(8, "displays[0].kind", "key 'kind' appears twice")],
        ),
    ],
)
def test_problems_name_their_place_and_line(
    old: str, new: str, display: str | None, expected: list[tuple[int, str, str]]
) -> None:
    text = GOOD.replace(old, new, 1) if old else GOOD
    if not expected:
        assert parse_display_config(text, display).display.name == display
        return
    found = problems(text, display)
    assert [(line, place) for line, place, _ in found] == [(line, place) for line, place, _ in expected]
    for (_, _, message), (_, _, wanted) in zip(found, expected, strict=True):
        assert message.startswith(wanted), message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("- a\n- b\n", "expected a mapping (key: value)"),
        ("hall: [\n", "not valid YAML"),
        (HEAD, "no displays in this file"),
        (HEAD + "displays: {name: TV-1}\n", "no displays in this file"),
    ],
)
def test_a_file_that_is_no_display_config(text: str, message: str) -> None:
    assert any(message in m for _, _, m in problems(text))


def test_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(DisplayConfigError, match="cannot read"):
        load_display_config(tmp_path / "missing.yaml")
    (tmp_path / "latin1.yaml").write_bytes(b"hall: \xe9\n")
    with pytest.raises(DisplayConfigError, match="not UTF-8"):
        load_display_config(tmp_path / "latin1.yaml")


def test_the_demo_hall_names_one_display_of_each_kind(repo_root: Path) -> None:
    text = (repo_root / "camera_configs" / "demo-hall.yaml").read_text(encoding="utf-8")
    found = {s.display.name: (s.display.kind, s.display.listen_port) for s in parse_all_displays(text)}
    assert found == {"TV-HALL": ("tv", 8090), "LED-HALL": ("led", 8091), "KIOSK-HALL": ("kiosk", 8092)}
    assert parse_display_config(text, "LED-HALL").display.led.width == 384


def test_the_key_comes_from_the_environment_or_a_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HALLWATCH_DISPLAY_KEY", " hwk_abc \n")
    assert resolve_key(DisplayConfig(name="TV-1")) == "hwk_abc"
    monkeypatch.delenv("HALLWATCH_DISPLAY_KEY")
    with pytest.raises(
        DisplayKeyError, match="no device key in the environment variable HALLWATCH_DISPLAY_KEY"
    ):
        resolve_key(DisplayConfig(name="TV-1"))
    (tmp_path / "key").write_text("hwk_file\n", encoding="utf-8")
    assert resolve_key(DisplayConfig(name="TV-1", key_file=tmp_path / "key")) == "hwk_file"
    (tmp_path / "key").write_text("hwk 密钥\n", encoding="utf-8")
    with pytest.raises(DisplayKeyError, match="spaces or non-ASCII"):
        resolve_key(DisplayConfig(name="TV-1", key_file=tmp_path / "key"))
    with pytest.raises(DisplayKeyError, match="cannot read the device key file"):
        resolve_key(DisplayConfig(name="TV-1", key_file=tmp_path / "none"))


def test_validate_and_run_report_problems_without_a_traceback(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("HALLWATCH_DISPLAY_KEY", raising=False)
    config = tmp_path / "hall.yaml"
    config.write_text(GOOD, encoding="utf-8")
    result = CliRunner().invoke(display_app, ["validate", str(config)])
    assert result.exit_code == 0, result.output
    assert "LED-1 (led): http://127.0.0.1:8091/marquee" in result.output
    config.write_text(GOOD.replace("width: 192", "width: 1"), encoding="utf-8")
    result = CliRunner().invoke(display_app, ["validate", str(config)])
    assert result.exit_code == 1 and f"{config}:10: displays[1].led.width" in result.output
    assert "Traceback" not in result.output
    config.write_text(GOOD, encoding="utf-8")
    result = CliRunner().invoke(display_app, ["run", str(config), "--display", "TV-1"])
    assert result.exit_code == 2 and "no device key in the environment variable" in result.output
    result = CliRunner().invoke(display_app, ["run", str(config)])
    assert result.exit_code == 1 and "choose one with --display" in result.output

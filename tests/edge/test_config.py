"""The edge config file: strict, every problem reported with its place and YAML line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from edge.cli import app as edge_app
from edge.config import EdgeConfig
from edge.configfile import EdgeConfigError, load_edge_config, parse_edge_config

GOOD = """\
hall: 510000-ZWFW
central:
  url: https://central.example.gov.cn
keypads:
  - name: KP-W01
    port: /dev/ttyUSB0
    window: W01
  - name: KP-W02
    port: /dev/ttyUSB1
    window: W02
    baudrate: 19200
"""


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(EdgeConfigError) as caught:
        parse_edge_config(text, origin="t.yaml")
    return [(p.line, p.place, p.message) for p in caught.value.problems]


def test_a_good_file_gets_the_defaults(repo_root: Path) -> None:
    config = parse_edge_config(GOOD)
    assert config.outbox.path == Path("var/edge-outbox.db")
    assert config.central.key_env == "HALLWATCH_EDGE_KEY" and config.central.poll_wait_seconds == 25
    first, second = config.keypads
    assert (first.baudrate, second.baudrate, first.reconnect_max_seconds) == (9600, 19200, 10.0)
    assert config.keypad_for_window("W02") == second and config.keypad_for_window("W09") is None
    demo = load_edge_config(repo_root / "camera_configs" / "demo-hall.yaml")
    assert isinstance(demo, EdgeConfig) and demo.hall == "510000-ZWFW" and len(demo.keypads) == 4


def test_unknown_keys_name_the_place_line_and_the_close_match() -> None:
    found = problems(GOOD.replace("    baudrate: 19200", "    baud_rate: 19200"))
    assert found == [
        (
            11,
            "keypads[1].baud_rate",
            "unknown key 'baud_rate'; did you mean 'baudrate'? allowed: baudrate, health_every_seconds, "
            "name, offline_after_seconds, port, reconnect_max_seconds, window",
        )
    ]


def test_duplicates_are_reported_even_beside_other_problems() -> None:
    text = GOOD.replace("window: W02", "window: W01").replace("name: KP-W02", "name: KP-W01")
    text = text.replace("https://central", "ftp://central")
    found = problems(text)
    assert (3, "central.url", "URL scheme should be 'http' or 'https'") in found
    assert (8, "keypads[1].name", "name 'KP-W01' is already used by keypads[0]") in found
    assert (10, "keypads[1].window", "window 'W01' is already used by keypads[0]") in found
    assert len(found) == 3


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("hall: 510000-ZWFW", "hall: 510000 ZWFW"), (1, "hall", "'510000 ZWFW' is not a code")),
        (("hall: 510000-ZWFW\n", ""), (1, "hall", "missing required key 'hall'")),
        (
            ("baudrate: 19200", "baudrate: 9601"),
            (11, "keypads[1].baudrate", "baudrate 9601 is not a standard"),
        ),
        (
            ("port: /dev/ttyUSB1", "port: /dev/ttyUSB0"),
            (9, "keypads[1].port", "port '/dev/ttyUSB0' is already"),
        ),
        (
            ("window: W02", "window: 2"),
            (10, "keypads[1].window", 'expected text, got the number 2; quote it: "2"'),
        ),
        (
            (
                "  url: https://central.example.gov.cn",
                "  url: https://c.example\n  key_file: /k\n  key_env: K",
            ),
            (4, "central.key_file", "give key_env or key_file, not both"),
        ),
        (
            ("central:", "outbox:\n  initial_backoff_seconds: 9\n  max_backoff_seconds: 2\ncentral:"),
            (
                3,
                "outbox.initial_backoff_seconds",
                "initial_backoff_seconds (9) is more than max_backoff_seconds (2)",
            ),
        ),
        (
            ("  - name: KP-W01", "  - name: KP-W01\n    name: KP-W09"),
            (6, "keypads[0].name", "key 'name' appears twice"),
        ),
        (("keypads:", "keypads: [\n"), (6, "(file)", "not valid YAML")),
    ],
)
def test_each_problem_has_its_place(change: tuple[str, str], expected: tuple[int | None, str, str]) -> None:
    found = problems(GOOD.replace(*change))
    line, place, start = expected
    assert any(p[0] == line and p[1] == place and p[2].startswith(start) for p in found), found


def test_bounds_live_on_the_fields() -> None:
    found = problems(GOOD + "outbox:\n  batch_size: 0\n")
    assert found == [(13, "outbox.batch_size", "Input should be greater than or equal to 1")]
    long_name = "K" * 41
    assert problems(GOOD.replace("KP-W01", long_name))[0][1:] == (
        "keypads[0].name",
        "String should have at most 40 characters",
    )


def test_empty_and_unreadable_files(tmp_path: Path) -> None:
    assert problems("") == [(None, "(file)", "the file is empty")]
    assert problems("- a\n- b\n") == [(1, "(file)", "expected a mapping (key: value)")]
    with pytest.raises(EdgeConfigError, match="cannot read"):
        load_edge_config(tmp_path / "missing.yaml")
    (tmp_path / "latin1.yaml").write_bytes(b"hall: \xe9\n")
    with pytest.raises(EdgeConfigError, match="not UTF-8"):
        load_edge_config(tmp_path / "latin1.yaml")


def test_aliases_do_not_blow_the_checks_up() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefg", "bcdefgh", strict=True)
    )
    found = problems(bomb + GOOD)
    assert {p[1] for p in found} == {"a", "b", "c", "d", "e", "f", "g", "h"}


def test_validate_command_prints_every_problem_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "hall.yaml"
    bad.write_text(GOOD.replace("W02", "W01").replace("baudrate: 19200", "baudrate: 7"), encoding="utf-8")
    result = CliRunner().invoke(edge_app, ["validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:10: keypads[1].window: window 'W01' is already used by keypads[0]" in result.output
    assert f"{bad}:11: keypads[1].baudrate: baudrate 7 is not a standard rate" in result.output
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    result = CliRunner().invoke(edge_app, ["validate", str(good)])
    assert result.exit_code == 0 and "hall 510000-ZWFW, 2 keypad(s)" in result.output

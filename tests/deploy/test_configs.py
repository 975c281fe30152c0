"""The configuration shipped under deploy/, each file checked by its own tool: the template helper
(deploy/render.py), nginx's own config test of the rendered site, `systemd-analyze verify` of each
unit and its command line against the real CLI, and the example environment files read the way
central and the agents read them."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values

from central.core.config import Settings
from common.display_config import DEFAULT_DISPLAY_KEY_ENV
from deploy.render import RenderError, main, placeholders, render
from edge.config import DEFAULT_KEY_ENV
from tests.deploy.stack import DEPLOY, issue_tls, need_program, nginx_files

UNITS = {  # each unit, and the name of an instance of it to verify
    "hallwatch-central@.service": "hallwatch-central@8001.service",
    "hallwatch-jobs.service": "hallwatch-jobs.service",
    "hallwatch-edge.service": "hallwatch-edge.service",
    "hallwatch-display@.service": "hallwatch-display@TV-HALL.service",
}
HALLWATCH = Path(sys.executable).with_name("hallwatch")  # the venv's, as the units' HALLWATCH names it


def render_unit(template: str, directory: Path) -> Path:
    """deploy/systemd/`template` rendered with this venv's hallwatch, as the units' header shows."""
    out = directory / template
    assert main([str(DEPLOY / "systemd" / template), "--set", f"HALLWATCH={HALLWATCH}", "-o", str(out)]) == 0
    return out


def test_render_fills_each_placeholder_and_repeats_a_list_line_per_item() -> None:
    template = "name @NAME@;\n    server @*UPSTREAMS@ max_fails=0;\nend @NAME@\n"
    text = render(template, {"NAME": "hw", "UPSTREAMS": "127.0.0.1:8001, 127.0.0.1:8002"})
    assert (
        text
        == "name hw;\n    server 127.0.0.1:8001 max_fails=0;\n    server 127.0.0.1:8002 max_fails=0;\nend hw\n"
    )


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"NAME": "hw"}, "no value for UPSTREAMS"),
        ({"NAME": "hw", "UPSTREAMS": "a", "UPSTREAM": "b"}, "no placeholder for UPSTREAM"),
        ({"NAME": "hw\nevil", "UPSTREAMS": "a"}, "the value of NAME spans lines"),
        ({"NAME": "hw", "UPSTREAMS": "a,,b"}, "without empty items"),
    ],
)
def test_render_refuses_values_that_do_not_fit_the_template(values: dict[str, str], said: str) -> None:
    with pytest.raises(RenderError, match=said):
        render("@NAME@\n@*UPSTREAMS@\n", values)


def test_the_render_command_writes_the_file_or_says_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unit = DEPLOY / "systemd" / "hallwatch-edge.service"
    out = tmp_path / "hallwatch-edge.service"
    assert main([str(unit), "--set", f"HALLWATCH={HALLWATCH}", "-o", str(out)]) == 0
    assert f"ExecStart={HALLWATCH} edge run" in out.read_text()
    assert main([str(unit)]) == 2
    assert "no value for HALLWATCH" in capsys.readouterr().err


def test_every_shipped_template_names_its_placeholders_in_its_header() -> None:
    for template in sorted((DEPLOY / "nginx").glob("*.conf")) + sorted((DEPLOY / "coturn").glob("*.conf")):
        text = template.read_text()
        header = text.split("\n\n", 1)[0]
        for name in placeholders(text):
            assert re.search(rf"\b{name}\b", header), (
                f"{template.name}: {name} is not explained in its header"
            )


def test_nginx_accepts_the_rendered_site(tmp_path: Path) -> None:
    nginx = need_program("nginx", "nginx")
    files = nginx_files(tmp_path / "nginx", issue_tls(tmp_path), ["127.0.0.1:8001", "127.0.0.1:8002"])
    result = subprocess.run(files.command(nginx, "-t"), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr, result.stderr
    assert "[warn]" not in result.stderr, f"nginx warns about the shipped site: {result.stderr}"
    upstreams = re.findall(r"^\s*server (\S+) max_fails=0;$", files.site.read_text(), re.MULTILINE)
    assert upstreams == ["127.0.0.1:8001", "127.0.0.1:8002"], "one upstream line per instance"


def test_the_proxy_takes_bodies_as_large_as_central_does() -> None:
    site = (DEPLOY / "nginx" / "hallwatch.conf").read_text()
    limit = re.search(r"client_max_body_size (\d+)m;", site)
    assert limit is not None, "the site sets client_max_body_size in MiB"
    central_default = Settings.model_fields["max_body_bytes"].default
    assert int(limit[1]) * 1024 * 1024 == central_default, "nginx and central's default must agree"
    example = dotenv_values(DEPLOY / "env" / "central.env.example")
    assert example["HALLWATCH_MAX_BODY_BYTES"] == str(central_default), "and the example env too"


def test_systemd_accepts_each_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here (Debian's systemd package has it)")
    for template in UNITS:
        render_unit(template, tmp_path)
    instances = [str(tmp_path / instance) for instance in UNITS.values()]
    result = subprocess.run([analyze, "verify", *instances], capture_output=True, text=True, timeout=60)
    ours = [line for line in (result.stdout + result.stderr).splitlines() if "hallwatch" in line]
    assert result.returncode == 0, result.stdout + result.stderr
    assert ours == [], "systemd complains about a shipped unit"


def test_each_unit_starts_a_command_the_cli_knows(tmp_path: Path) -> None:
    """Each unit's ExecStart with its instance name, asked for --help: the command and options exist
    (a missing config file is the agents' own error, at start)."""
    for template, instance in UNITS.items():
        line = re.search(r"^ExecStart=(.+)$", render_unit(template, tmp_path).read_text(), re.MULTILINE)
        assert line is not None, f"{template} has an ExecStart"
        name = instance.split("@", 1)[1].removesuffix(".service") if "@" in instance else ""
        command = [*shlex.split(line[1].replace("%i", name)), "--help"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{template}: {command} → {result.stdout}{result.stderr}"


def test_central_reads_the_example_environment() -> None:
    settings = Settings(_env_file=DEPLOY / "env" / "central.env.example")
    assert settings.database_url.startswith("postgresql://"), "production runs on PostgreSQL"
    assert settings.forwarded_allow_ips == "127.0.0.1", "nginx beside the instances is believed"
    assert settings.complaint_challenge_secret is not None, "one complaint secret for every instance"
    assert settings.live_turn_urls, "live view is handed the TURN server"
    assert settings.live_turn_secret is not None, "with credentials minted from coturn's secret"
    assert settings.live_ice_servers == [], "no static server: no STUN server, public or any, no fixed user"
    assert settings.live_turn_secret != settings.complaint_challenge_secret, "each secret its own"
    assert not settings.serve_runs_jobs, "the instances leave the periodic jobs to hallwatch-jobs.service"


def test_the_agents_example_environments_name_the_keys_they_read() -> None:
    edge = dotenv_values(DEPLOY / "env" / "edge.env.example")
    display = dotenv_values(DEPLOY / "env" / "display.env.example")
    assert set(edge) == {DEFAULT_KEY_ENV}, "the edge agent's key, under the name its config reads"
    assert set(display) == {DEFAULT_DISPLAY_KEY_ENV}, "the display agent's key, likewise"

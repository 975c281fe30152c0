"""The hall's box runs only the hall's side: `hallwatch edge run` (and the keypad emulator) load no
server code, nor does `hallwatch display run` on a display PC (which serves its pages with starlette
and uvicorn, but nothing of central's app); and the architecture's import contracts hold
(import-linter, pyproject.toml)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SERVER_PACKAGES = {
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "uvicorn",
    "argon2",
    "openpyxl",
    "central.app",
}
ROOT = Path(__file__).resolve().parents[1]

# What a display PC must not load: the display agent serves with starlette and uvicorn itself.
CENTRAL_ONLY = SERVER_PACKAGES - {"starlette", "uvicorn"}
ROOT_CLI = {"central", "central.cli", "central.cli.main"}  # `hallwatch` itself lives in central.cli

PROBE = """
import importlib, json, sys
from typer.testing import CliRunner
from central.cli.main import app
result = CliRunner().invoke(app, sys.argv[2:])
importlib.import_module(sys.argv[1])  # what the command builds once it has its key
loaded = sorted({m.split(".")[0] if not m.startswith("central.") else m for m in sys.modules})
print(json.dumps({"exit": result.exit_code, "output": result.output, "loaded": loaded}))
"""


def loaded_by(*args: str, builds: str = "edge.agent") -> tuple[int, str, set[str]]:
    env = {"PATH": "/usr/bin:/bin", "HALLWATCH_EDGE_KEY": "", "HALLWATCH_DISPLAY_KEY": ""}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, builds, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["exit"], report["output"], set(report["loaded"])


@pytest.mark.parametrize(
    "args",
    [
        ["edge", "run", str(ROOT / "camera_configs" / "demo-hall.yaml")],  # no key: stops after loading
        ["edge", "validate", str(ROOT / "camera_configs" / "demo-hall.yaml")],
        ["keypad", "emulate", "--help"],
    ],
)
def test_the_hall_side_commands_load_no_server_code(args: list[str]) -> None:
    code, output, loaded = loaded_by(*args)
    assert code in (0, 2), output
    assert not loaded & SERVER_PACKAGES, sorted(loaded & SERVER_PACKAGES)
    assert "edge" in loaded and "cv2" in loaded  # the probe did load the agent


@pytest.mark.parametrize(
    "args",
    [
        ["display", "run", str(ROOT / "camera_configs" / "demo-hall.yaml"), "--display", "TV-HALL"],  # no key
        ["display", "validate", str(ROOT / "camera_configs" / "demo-hall.yaml")],
    ],
)
def test_the_display_commands_load_nothing_of_central(args: list[str]) -> None:
    code, output, loaded = loaded_by(*args, builds="hall_display.agent")
    assert code in (0, 2), output
    assert not loaded & CENTRAL_ONLY, sorted(loaded & CENTRAL_ONLY)
    assert not {m for m in loaded if m.startswith("central.")} - ROOT_CLI
    assert {"hall_display", "uvicorn", "starlette"} <= loaded and "cv2" not in loaded


def test_a_central_command_still_loads_the_server() -> None:
    """The probe can tell: `hallwatch serve --help` builds the serve command from central.cli.serve_cmd."""
    code, output, loaded = loaded_by("serve", "--help")
    assert code == 0, output
    assert {"uvicorn", "fastapi"} <= loaded


def test_the_import_contracts_hold() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout

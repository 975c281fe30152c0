"""The console's Jinja environment is built per app from the domains' declarations: building two
apps leaves each with the same names, nothing accumulates, and importing a pages module changes
no environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.templating import Jinja2Templates
from jinja2 import FileSystemLoader
from sqlalchemy import Engine

from central.app import PAGE_TEMPLATES, create_app
from central.core.config import Settings
from central.web.templating import SHELL, PageTemplates, build_templates

CENTRAL = Path(__file__).resolve().parents[3] / "central"
PAGES_MODULES = (
    "central.access.login_pages",
    "central.approvals.pages",
    "central.cases.pages",
    "central.devices.admin_pages",
    "central.investigations.pages",
    "central.ledger.pages",
    "central.ratings.pages",
    "central.signals.pages",
    "central.video.pages",
)


def _names(templates: Jinja2Templates) -> tuple[dict[str, object], dict[str, object], list[str]]:
    env = templates.env
    assert isinstance(env.loader, FileSystemLoader)
    own = {k: v for k, v in env.globals.items() if k != "url_for"}  # Starlette's, made per environment
    assert "url_for" in env.globals
    return own, dict(env.filters), list(env.loader.searchpath)


def test_two_apps_get_the_same_fresh_environment(db: Engine, settings: Settings) -> None:
    first = create_app(settings, engine=db).state.templates
    before = _names(first)
    second = create_app(settings, engine=db).state.templates
    assert second is not first and second.env is not first.env
    assert _names(second) == before  # the same names, bound to the same objects
    assert _names(first) == before  # building the second app did not touch the first's
    assert {"csrf_input", "role_label", "status_label", "signal_status_label", "window_state_labels"} <= set(
        before[0]
    )
    assert {"shanghai_time", "badges", "percent", "hm"} <= set(before[1])


IMPORT_CHECK = """
import importlib, json, sys
from central.web.templating import SHELL, build_templates

def names(t):
    return sorted(t.env.globals), sorted(t.env.filters), list(t.env.loader.searchpath)

shell = build_templates([SHELL])
before = names(shell)
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps({"before": before, "same": names(shell), "fresh": names(build_templates([SHELL]))}))
"""


def test_importing_pages_changes_no_environment() -> None:
    """In a fresh process (nothing imported yet): importing every pages module leaves an
    environment built before untouched, and one built after gets only what it was given."""
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_CHECK, *PAGES_MODULES], capture_output=True, text=True, check=True
    )
    seen = json.loads(done.stdout)
    assert seen["same"] == seen["before"] and seen["fresh"] == seen["before"]
    assert "signal_status_label" not in seen["before"][0] and "percent" not in seen["before"][1]


def test_every_template_is_found_once() -> None:
    """Each template file lives in one declared folder, and the app's environment finds it."""
    templates = build_templates(PAGE_TEMPLATES)
    folders = {part.folder for part in PAGE_TEMPLATES if part.folder is not None}
    files = sorted(CENTRAL.glob("*/templates/*.html"))
    assert {f.parent for f in files} == folders
    names = [f.name for f in files]
    assert len(names) == len(set(names)), "two domains' templates share a name: one would hide the other"
    for file in files:
        assert templates.env.get_template(file.name).filename == str(file)


def test_two_declarations_of_one_name_are_refused() -> None:
    clash = PageTemplates(globals={"shanghai_time": len})
    with pytest.raises(ValueError, match="shanghai_time"):
        build_templates([SHELL, clash])

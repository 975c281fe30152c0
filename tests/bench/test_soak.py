"""A short soak (issue 20): bench/soak.py scaled down — 20 halls' agents, 100 screens, 45 s with each fault
once for 3 s (central instance A killed, PostgreSQL restarted, the halls' link cut, an edge disk full) —
through everything real: its own PostgreSQL cluster, two `hallwatch serve` behind the shipped nginx with
TLS, the edge's own outbox and uploader. Checked: every observation an outbox took is stored exactly
once, every case pushed reached every screen of its hall, the full outbox refused new work and took it
again once there was room, and no error happened that a fault does not explain. Never a timing: the
benchmark prints those."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.soak_cluster import postgres_program
from tests.deploy.stack import need_program
from tests.once_per_run import once_per_run

ROOT = Path(__file__).resolve().parents[2]
SOAK = ["--minutes", "0.75", "--agents", "20", "--displays", "100", "--windows", "20", "--inspectors", "2"]


@pytest.fixture(scope="session")
def soak(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    """One soak per test run (tests/once_per_run.py): two at once on a 2-core machine starve each other."""
    need_program("nginx", "nginx")
    try:
        postgres_program("initdb")
    except SystemExit as exc:
        pytest.skip(str(exc))
    done = once_per_run("soak", _run_soak, fallback=tmp_path_factory.mktemp("soak"))
    counts = json.loads((done / "soak.json").read_text(encoding="utf-8"))
    return counts, (done / "output.txt").read_text(encoding="utf-8")


def _run_soak(directory: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "bench.soak", *SOAK, "--json", str(directory / "soak.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    output = finished.stdout[-6000:] + finished.stderr[-4000:]
    assert finished.returncode == 0, output
    (directory / "output.txt").write_text(output, encoding="utf-8")


def test_every_observation_an_outbox_took_is_stored_once(soak: tuple[dict[str, Any], str]) -> None:
    counts, output = soak
    assert counts["sent"] > 0, f"the agents stored observations in their outboxes\n{output}"
    assert counts["lost"] == 0, f"observations the outboxes took that central does not hold\n{output}"
    assert counts["duplicated"] == 0, f"observations central holds more than once\n{output}"
    assert counts["unsent"] == 0, f"rows at central that no outbox took\n{output}"
    assert counts["undelivered"] == 0, f"the outboxes drained once the faults were over\n{output}"
    assert counts["rejected"] == 0, f"central rejected none of the agents' observations\n{output}"


def test_every_case_reached_every_screen_of_its_hall(soak: tuple[dict[str, Any], str]) -> None:
    counts, output = soak
    assert counts["cases_pushed"] > 0, f"the case system pushed cases\n{output}"
    assert counts["display_missed"] == 0, f"(screen, case) pairs never delivered\n{output}"


def test_the_full_disk_refused_new_work_and_took_it_again_once_emptied(
    soak: tuple[dict[str, Any], str],
) -> None:
    counts, output = soak
    probes = counts["disk_probes"]
    assert len(probes) == 2, f"a press after filling and after emptying the disk: {probes}\n{output}"
    assert probes[0].startswith("refused while full"), f"the full outbox refuses a press: {probes}"
    assert probes[1] == "stored after", f"with room again the outbox stores the next press: {probes}"


def test_each_fault_ran_and_no_error_is_left_unexplained(soak: tuple[dict[str, Any], str]) -> None:
    counts, output = soak
    ran = counts["faults"]
    assert sorted(ran) == ["central_kill", "disk_full", "link_cut", "postgres_restart"], ran
    assert all(seconds is not None for seconds in ran.values()), f"each fault began and ended: {ran}"
    assert counts["explained_errors"] > 0, f"the faults were felt (connections broke)\n{output}"
    assert counts["unexplained_errors"] == [], f"errors no fault explains\n{output}"

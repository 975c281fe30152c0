"""Checks (`central.ops.report`) as the CLI prints them: one line each, OK / 警告 / 错误, its details
below (at most MAX_DETAILS; `--json` lists every one) and what to do, or all of it as JSON."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import typer
from rich.markup import escape

from central.cli.common import console
from central.ops.report import LABELS, Check, Status

logger = logging.getLogger(__name__)

MAX_DETAILS = 20
STYLES = {Status.OK: "green", Status.WARNING: "yellow", Status.ERROR: "bold red", Status.SKIPPED: "dim"}


def print_checks(checks: Sequence[Check], *, verdict: str) -> None:
    for check in checks:
        label = LABELS[check.status]
        pad = " " * (4 - len(label) - sum(1 for c in label if ord(c) > 0x2E80))  # CJK glyphs are two wide
        console.print(
            f"[{STYLES[check.status]}]{label}[/]{pad} {escape(check.title)}: {escape(check.summary)}",
            highlight=False,
            soft_wrap=True,
        )
        for line in check.details[:MAX_DETAILS]:
            console.print(f"      - {escape(line)}", highlight=False, soft_wrap=True)
        if len(check.details) > MAX_DETAILS:
            more = len(check.details) - MAX_DETAILS
            console.print(f"      … 另有 {more} 项 and {more} more (--json)", highlight=False, soft_wrap=True)
        if check.hint and check.status in (Status.WARNING, Status.ERROR):
            console.print(f"      → {escape(check.hint)}", highlight=False, soft_wrap=True)
    console.print(f"{verdict}: {tally(checks)}", highlight=False, soft_wrap=True)


def tally(checks: Sequence[Check]) -> str:
    errors = sum(1 for c in checks if c.status is Status.ERROR)
    warnings = sum(1 for c in checks if c.status is Status.WARNING)
    return f"{errors} 个错误 error(s), {warnings} 个警告 warning(s)"


def echo_json(checks: Sequence[Check], *, ok: bool, **extra: Any) -> None:
    body = {
        "ok": ok,
        "errors": sum(1 for c in checks if c.status is Status.ERROR),
        "warnings": sum(1 for c in checks if c.status is Status.WARNING),
        **extra,
        "checks": [c.as_json() for c in checks],
    }
    typer.echo(json.dumps(body, ensure_ascii=False, indent=2))

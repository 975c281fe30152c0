"""`hallwatch doctor`: check this deployment from the inside and say what to do about each problem."""

from __future__ import annotations

import logging
from datetime import datetime

import typer
from pydantic import ValidationError

from central.app import periodic_jobs
from central.audit.signing import SigningKeyError
from central.cli.check_lines import echo_json, print_checks
from central.cli.common import fail
from central.core.clock import ensure_aware, system_clock, to_utc
from central.core.config import Settings
from central.ops.doctor.limits import DoctorLimits
from central.ops.doctor.run import run_checks
from central.ops.report import failed

logger = logging.getLogger(__name__)

DEFAULTS = DoctorLimits()
FORMATS = ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]


def doctor(
    json_output: bool = typer.Option(
        False, "--json", help="One JSON object (for monitoring) instead of lines."
    ),
    strict: bool = typer.Option(False, "--strict", help="Warnings fail too (exit 1)."),
    at: datetime | None = typer.Option(
        None,
        "--at",
        formats=FORMATS,
        help="Check as of this moment (Asia/Shanghai without a zone); default now.",
    ),
    calendar_days: int = typer.Option(
        DEFAULTS.calendar_days, min=1, max=366, help="Days ahead the working-day calendar must cover."
    ),
    checkpoint_max_age_minutes: float | None = typer.Option(
        None,
        min=1,
        help="Oldest acceptable signed audit checkpoint while the chain grows (default: twice the interval).",
    ),
    max_clock_skew_seconds: float = typer.Option(
        DEFAULTS.max_clock_skew_seconds, min=0.1, help="How far an agent's clock may be from central's."
    ),
    edge_silent_minutes: float = typer.Option(
        DEFAULTS.edge_silent_minutes, min=1, help="An edge agent unheard for longer is silent."
    ),
    display_silent_minutes: float = typer.Option(
        DEFAULTS.display_silent_minutes, min=1, help="A display agent unheard for longer is silent."
    ),
    keypad_silent_minutes: float = typer.Option(
        DEFAULTS.keypad_silent_minutes, min=1, help="A keypad without a health report for longer is silent."
    ),
) -> None:
    """Database reachable and migrated, calendar years ahead, audit checkpoints recent, agents' clocks,
    silent devices, edge outbox disks, periodic jobs on time: one line each, with what to do. Exits 1 on an error (with
    --strict, a warning)."""
    try:
        limits = DoctorLimits(
            calendar_days=calendar_days,
            checkpoint_max_age_minutes=checkpoint_max_age_minutes,
            max_clock_skew_seconds=max_clock_skew_seconds,
            edge_silent_minutes=edge_silent_minutes,
            display_silent_minutes=display_silent_minutes,
            keypad_silent_minutes=keypad_silent_minutes,
        )
        settings = Settings()
    except ValidationError as exc:
        raise fail(f"配置错误 bad settings: {exc}") from exc
    now = to_utc(ensure_aware(at)) if at else system_clock()
    checks = run_checks(settings, now=now, limits=limits, jobs=_shared_jobs(settings))
    bad = failed(checks, strict=strict)
    if json_output:
        echo_json(checks, ok=not bad, at=now.isoformat())
    else:
        print_checks(checks, verdict="体检结果 result")
    if bad:
        raise typer.Exit(1)


def _shared_jobs(settings: Settings) -> dict[str, float]:
    """The periodic jobs these settings run, by name and interval; the audit checkpoints are each
    instance's own (and looked at by their own check)."""
    try:
        jobs = periodic_jobs(settings)
    except SigningKeyError:  # the audit check names the key's problem
        jobs = periodic_jobs(settings.model_copy(update={"audit_signing_key": None}))
    return {job.name: job.interval for job in jobs if job.shared}

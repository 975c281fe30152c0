"""`hallwatch edge …`: check an edge config file, run the edge agent, look into its outbox."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from common.stopping import stop_on_signals
from edge.config import EdgeConfig, OutboxConfig
from edge.outbox_space import MB

if TYPE_CHECKING:
    from edge.video.recording import RecordingStats
    from edge.video.recording_job import RecordingJob

logger = logging.getLogger(__name__)
console = Console()
errors = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Say what is wrong on stderr (one line) and exit with `code`."""
    errors.print(f"[bold red]错误[/]: {message}", highlight=False)
    return typer.Exit(code)


app = typer.Typer(help="Edge agent: keypads, outbox, upload to central.", no_args_is_help=True)

CONFIG_ARG = typer.Argument(..., dir_okay=False, help="Edge config file (camera_configs/<hall>.yaml).")


def _load(file: Path) -> EdgeConfig:
    """The config, or every problem as FILE:LINE: place: message on stderr and exit 1."""
    from edge.configfile import EdgeConfigError, load_edge_config

    try:
        return load_edge_config(file)
    except EdgeConfigError as exc:
        for problem in exc.problems:
            where = f"{file}:{problem.line}" if problem.line is not None else str(file)
            typer.echo(f"{where}: {problem.place}: {problem.message}", err=True)
        raise fail(f"{len(exc.problems)} 个问题 (problems) in {file}", code=1) from exc


@app.command("validate")
def validate(file: Path = CONFIG_ARG) -> None:
    """Check FILE strictly; print every problem with its line (exit 1), or a summary."""
    config = _load(file)
    console.print(
        f"配置有效 (valid): hall {config.hall}, {len(config.keypads)} keypad(s), {len(config.cameras)} camera(s), "
        f"{len(config.windows)} window(s), central {config.central.url}"
    )


@app.command("run")
def run(config_file: Path = CONFIG_ARG) -> None:
    """Run the edge agent until SIGTERM or Ctrl-C; the device key comes from central.key_env/key_file."""
    from edge.agent import Agent, AgentBusyError
    from edge.central import EdgeKeyError, resolve_key
    from edge.video.detect.base import DetectorUnavailableError

    config = _load(config_file)
    if not logger.isEnabledFor(logging.DEBUG):
        logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request (-v shows them)
    try:
        agent = Agent(config, key=resolve_key(config.central))
    except (EdgeKeyError, AgentBusyError, DetectorUnavailableError) as exc:
        raise fail(str(exc)) from exc
    agent.run(stop_on_signals())


@contextmanager
def recording_progress(
    job: RecordingJob,
) -> Iterator[tuple[Callable[[RecordingStats], None], Callable[[int], None]]]:
    """A rich progress bar over the recording's duration, with frames per second and the recording
    time reached; then the upload's pending count. Yields the two callbacks of `run_job`."""
    from edge.video.schedule import HALL_TZ

    total = job.info.duration_seconds
    began = time.monotonic()
    with Progress(
        TextColumn("录像分析 {task.description}"),
        BarColumn(),
        TextColumn("{task.fields[fps]:>6.1f} 帧/秒 fps"),
        TextColumn("{task.fields[speed]:>6.1f}× 实时"),
        TextColumn("录像时间 {task.fields[scene]}"),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(job.camera.name, total=total, fps=0.0, speed=0.0, scene="—")

        def on_frame(stats: RecordingStats) -> None:
            if stats.analysed % 10 and stats.analysed > 1:
                return  # a redraw per frame would cost more than the frame
            wall = max(time.monotonic() - began, 1e-9)
            reached = stats.last_at - job.start if stats.last_at else timedelta(0)
            scene = stats.last_at.astimezone(HALL_TZ).strftime("%m-%d %H:%M:%S") if stats.last_at else "—"
            progress.update(
                task,
                completed=reached.total_seconds(),
                fps=stats.decoded / wall,
                speed=reached.total_seconds() / wall,
                scene=scene,
            )

        def on_upload(pending: int) -> None:
            progress.update(task, description=f"{job.camera.name} 上传中 uploading, {pending} left")

        yield on_frame, on_upload


@app.command("analyse")
def analyse(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="A recording (an NVR export, any FFmpeg format)."
    ),
    config_file: Path = typer.Option(..., "--config", dir_okay=False, help="The hall's edge config."),
    camera: str = typer.Option(
        ..., "--camera", help="The camera the recording is from (its name in the config)."
    ),
    start: datetime | None = typer.Option(
        None,
        formats=["%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S%z"],
        help="When the recording starts, with its zone (2026-12-05T08:30+08:00); default: the file's own "
        "creation_time.",
    ),
    upload_timeout: float = typer.Option(
        300.0, min=0, help="Seconds to wait for central to take the results."
    ),
) -> None:
    """Analyse a recorded file as fast as the machine allows, at the recording's own time, and send
    presence, absences, visits and evidence to central marked as from a recording."""
    from edge.agent import AgentBusyError
    from edge.central import EdgeKeyError, resolve_key
    from edge.outbox_space import OutboxFull
    from edge.video.detect.base import DetectorUnavailableError
    from edge.video.recording import RecordingError
    from edge.video.recording_job import plan_job, run_job

    config = _load(config_file)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        job = plan_job(config, file=file, camera=camera, start=start)
        key = resolve_key(config.central)
        with recording_progress(job) as (on_frame, on_upload):
            result = run_job(
                job, key=key, upload_timeout=upload_timeout, on_frame=on_frame, on_upload=on_upload
            )
    except (RecordingError, EdgeKeyError, AgentBusyError, DetectorUnavailableError, OutboxFull) as exc:
        raise fail(str(exc)) from exc
    stats, counts = result.stats, result.outbox
    speed = stats.scene_seconds / max(stats.decode_seconds + stats.analyse_seconds, 1e-9)
    console.print(
        f"录像分析完成 analysed: {stats.analysed} of {stats.decoded} frames, {stats.scene_seconds:.0f} s of "
        f"recording at {speed:.1f}× real time (decoding {stats.decode_seconds:.1f} s, analysis "
        f"{stats.analyse_seconds:.1f} s); {stats.observations} observation(s)"
    )
    if result.refused:
        raise fail(
            f"磁盘已满 disk full: {result.refused} observation(s) could not be stored; free space "
            f"beside {job.outbox_path} and run the analysis again",
            code=1,
        )
    if counts.pending or counts.rejected:
        raise fail(
            f"central has not taken {counts.pending} observation(s) yet and refused {counts.rejected} "
            f"(kept in {job.outbox_path}; run the analysis again to send them)",
            code=1,
        )
    console.print(f"已送达中心 delivered: {counts.delivered} observation(s)")


def _disk_line(settings: OutboxConfig, free: int, spare_kept: bool) -> str:
    """The outbox's disk: free space against the reserve, and whether the spare file is still kept."""
    low = " [bold red]below it: evidence and clips are refused[/]" if free < settings.reserve_mb * MB else ""
    spare = (
        "no spare file"
        if settings.spare_mb == 0
        else "spare file kept"
        if spare_kept
        else "[bold red]no spare file: given back on a full disk (or no agent has run here yet)[/]"
    )
    return f"磁盘 disk: {free / MB:.1f} MB free (reserve {settings.reserve_mb:g} MB){low}; {spare}"


@app.command("outbox")
def outbox(
    config_file: Path = CONFIG_ARG,
    rejected: int = typer.Option(20, help="Rejected rows to list."),
    requeue: bool = typer.Option(
        False, "--requeue", help="Send the rejected rows again (after fixing the cause, e.g. the clock)."
    ),
) -> None:
    """Counts of the outbox (pending, delivered, rejected) and the latest rejected rows with the reason."""
    from edge.outbox import Outbox

    config = _load(config_file)
    if not config.outbox.path.exists():
        raise fail(f"no outbox at {config.outbox.path} yet")
    box = Outbox(config.outbox.path)
    try:
        if requeue:
            console.print(f"重新排队 requeued {box.requeue_rejected()} rejected row(s)")
        counts, rows = box.counts(), box.rejected(rejected)
        free, spare_kept = box.space.free_bytes(), box.space.spare.exists()
    finally:
        box.close()
    console.print(
        f"待上传 pending {counts.pending}, 已送达 delivered {counts.delivered}, 被拒 rejected {counts.rejected}"
    )
    console.print(_disk_line(config.outbox, free, spare_kept))
    if rows:
        table = Table("id", "kind", "原因 detail")
        for row in rows:
            table.add_row(row.id, row.kind, row.detail or "")
        console.print(table)

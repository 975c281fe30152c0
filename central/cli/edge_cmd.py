"""`hallwatch edge …`: check an edge config file, run the edge agent, look into its outbox."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType

import typer
from rich.table import Table

from central.cli.common import console, fail
from edge.config import EdgeConfig

logger = logging.getLogger(__name__)

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
    stop = threading.Event()

    def _on_signal(number: int, _frame: FrameType | None) -> None:
        logger.info("signal %s: stopping", signal.Signals(number).name)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    agent.run(stop)


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
    finally:
        box.close()
    console.print(
        f"待上传 pending {counts.pending}, 已送达 delivered {counts.delivered}, 被拒 rejected {counts.rejected}"
    )
    if rows:
        table = Table("id", "kind", "原因 detail")
        for row in rows:
            table.add_row(row.id, row.kind, row.detail or "")
        console.print(table)

"""`hallwatch display …`: check a hall config's displays, run the display agent of one of them."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from common.configfile import read_config_text
from hall_display.config import (
    DisplayConfigError,
    DisplaySettings,
    load_display_config,
    parse_all_displays,
)

if TYPE_CHECKING:
    from hall_display.agent import DisplayAgent

logger = logging.getLogger(__name__)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

app = typer.Typer(help="Hall display agent (大厅显示屏).", no_args_is_help=True)

CONFIG_ARG = typer.Argument(..., dir_okay=False, help="The hall's config file (camera_configs/<hall>.yaml).")
DISPLAY_OPT = typer.Option(
    None, "--display", "-d", help="The display's name in `displays:` (optional when the file has one)."
)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Say what is wrong on stderr (one line) and exit with `code`."""
    errors.print(f"[bold red]错误[/]: {message}", highlight=False)
    return typer.Exit(code)


def _report(file: Path, exc: DisplayConfigError) -> typer.Exit:
    for problem in exc.problems:
        where = f"{file}:{problem.line}" if problem.line is not None else str(file)
        typer.echo(f"{where}: {problem.place}: {problem.message}", err=True)
    return fail(f"{len(exc.problems)} 个问题 (problems) in {file}", code=1)


@app.command("validate")
def validate(file: Path = CONFIG_ARG, display: str | None = DISPLAY_OPT) -> None:
    """Check the file's displays (or the one named) strictly; print every problem with its line (exit 1)."""
    try:
        if display is not None:
            found = [load_display_config(file, display)]
        else:
            found = parse_all_displays(read_config_text(file, DisplayConfigError), origin=str(file))
    except DisplayConfigError as exc:
        raise _report(file, exc) from exc
    console.print(f"配置有效 (valid): hall {found[0].hall}, central {found[0].central_url}", highlight=False)
    for settings in found:
        d = settings.display
        console.print(f"  {d.name} ({d.kind}): {settings.local_url}, copy in {d.cache_path}", highlight=False)


@app.command("run")
def run(file: Path = CONFIG_ARG, display: str | None = DISPLAY_OPT) -> None:
    """Run the display agent until SIGTERM or Ctrl-C; the device key comes from key_env or key_file."""
    from hall_display.agent import AgentStartError, DisplayAgent
    from hall_display.config import DisplayKeyError, resolve_key

    try:
        settings = load_display_config(file, display)
    except DisplayConfigError as exc:
        raise _report(file, exc) from exc
    try:
        agent = DisplayAgent(settings, resolve_key(settings.display))
        asyncio.run(_serve(agent, settings))
    except (DisplayKeyError, AgentStartError) as exc:
        raise fail(str(exc)) from exc


async def _serve(agent: DisplayAgent, settings: DisplaySettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, _on_signal, number, stop)
    console.print(f"显示屏 {settings.display.name}: {settings.local_url}", highlight=False)
    await agent.run(stop)


def _on_signal(number: int, stop: asyncio.Event) -> None:
    logger.info("signal %s: stopping", signal.Signals(number).name)
    stop.set()

"""PostgreSQL's own tools, run as subprocesses: `pg_dump -Fc` (in a snapshot the caller holds open,
so the dump and the manifest's counts are the same moment) and `pg_restore` (in one transaction: a
dump that fails half-way leaves the target as empty as it was).

The tools must be at least the server's major version (pg_dump refuses a newer server); Debian's
`postgresql-client-NN` matches `postgresql-NN`. The password goes to the tools in PGPASSWORD, never
on their command line (which every local user can read)."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, make_url

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.25
STDERR_TAIL = 1500


class PgToolError(RuntimeError):
    """A PostgreSQL tool missing, too old, or failing (its own message included)."""


@dataclass(frozen=True)
class Target:
    dbname: str  # a libpq URI without the password
    env: dict[str, str]


def target(url: str) -> Target:
    parsed: URL = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise PgToolError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    env = {**os.environ}
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    libpq = parsed.set(drivername="postgresql", password=None).difference_update_query(["connect_timeout"])
    return Target(libpq.render_as_string(hide_password=False), env)


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise PgToolError(
            f"{name} 未安装 not found: apt-get install postgresql-client (the server's major version)"
        )
    return found


def major_of(line: str) -> int:
    """The major version in a `--version` line: "pg_dump (PostgreSQL) 15.20 (Debian …)" → 15."""
    match = re.search(r"\)\s+(\d+)", line)
    if match is None:
        raise PgToolError(f"cannot read a version in {line!r}")
    return int(match.group(1))


def tool_version(name: str) -> tuple[str, int]:
    """(`name --version`'s line, its major version)."""
    done = subprocess.run([tool(name), "--version"], capture_output=True, text=True, check=True)
    line = done.stdout.strip()
    return line, major_of(line)


def require_major(name: str, *, at_least: int, why: str) -> str:
    line, major = tool_version(name)
    if major < at_least:
        raise PgToolError(
            f"{name} {major} 太旧 too old for {why} ({at_least}): apt-get install postgresql-client-{at_least}"
        )
    return line


def dump(db: Target, *, snapshot: str, out: Path, progress: Callable[[int], None]) -> None:
    """`pg_dump -Fc` of the snapshot `snapshot` (exported by a transaction the caller keeps open) to
    `out`; `progress` gets the bytes written so far while it runs."""
    command = [tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", f"--file={out}", "--no-password"]
    _run([*command, f"--dbname={db.dbname}"], db.env, lambda: progress(_size(out)))


def restore(db: Target, *, dump_file: Path, tick: Callable[[], None]) -> None:
    """`pg_restore` into an empty database, all or nothing; the first error stops it."""
    command = [
        tool("pg_restore"),
        "--exit-on-error",
        "--single-transaction",
        "--no-owner",  # the restoring role owns everything: the drill and a new server need no other roles
        "--no-privileges",
        "--no-password",
        f"--dbname={db.dbname}",
        str(dump_file),
    ]
    _run(command, db.env, tick)


def list_contents(dump_file: Path) -> int:
    """How many entries the dump's table of contents lists; a damaged archive raises."""
    result = subprocess.run(
        [tool("pg_restore"), "--list", str(dump_file)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise PgToolError(f"pg_restore --list: {result.stderr.strip()[-STDERR_TAIL:]}")
    return sum(1 for line in result.stdout.splitlines() if line and not line.startswith(";"))


def _run(command: list[str], env: dict[str, str], tick: Callable[[], None]) -> None:
    name = Path(command[0]).name
    logger.info("running %s", name)
    with tempfile.TemporaryFile() as stderr:  # a file, not a pipe: a chatty tool cannot block on it
        with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr) as process:
            while True:
                tick()
                try:
                    process.wait(timeout=POLL_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    continue
        stderr.seek(0)
        said = stderr.read().decode(errors="replace").strip()
    if process.returncode != 0:
        raise PgToolError(f"{name} 失败 failed (exit {process.returncode}): {said[-STDERR_TAIL:]}")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0

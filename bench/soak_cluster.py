"""The soak's own servers on loopback: a PostgreSQL cluster of its own (restarting it must never touch the
machine's shared server) and `hallwatch serve` instances that can be killed and started again.

The cluster is made with the Debian packages' `initdb` and run with `pg_ctl`, in a temporary directory,
on a free port. PostgreSQL refuses to run as root, so as root they run as the `postgres` user
(`runuser`), in a directory that user owns.
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import httpx
import psycopg

from bench.common import free_port
from tests.deploy.stack import spawn_serve

logger = logging.getLogger(__name__)

DATABASE = "hallwatch_soak"
START_TIMEOUT_S = 90.0
SMALL_DISK_MB = 16  # the disk agent's file system (bench/soak_agents.py scales its outbox's reserve to it)
# The cluster's settings beside initdb's defaults: loopback only, room for two instances' pools,
# their LISTEN connections and the bench's own.
POSTGRES_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "300",
    "shared_buffers": "'256MB'",
}


def postgres_program(name: str) -> str:
    """`initdb` or `pg_ctl` of the newest PostgreSQL the Debian packages installed (they are off PATH)."""
    found = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    if found:
        return max(found, key=lambda p: [int(n) for n in re.findall(r"\d+", p.split("/")[4])])
    on_path = shutil.which(name)
    if on_path is None:
        raise SystemExit(f"no {name}: install Debian's postgresql package")
    return on_path


class PostgresCluster:
    """A cluster of its own under `root`, trust authentication on 127.0.0.1:`port`."""

    def __init__(self, root: Path) -> None:
        self.root = root / "postgres"
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while it runs."""
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None

    def create(self) -> None:
        self.root.mkdir(parents=True)
        if self._as_postgres:
            self.root.parent.chmod(0o711)  # a temporary directory is 0700: let postgres through to its own
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run(postgres_program("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--no-sync")  # fmt: skip
        settings = "".join(f"{name} = {value}\n" for name, value in POSTGRES_SETTINGS.items())
        settings += f"port = {self.port}\nunix_socket_directories = '{self.root}'\n"
        self._run("sh", "-c", f"cat >> {self.data / 'postgresql.conf'}", stdin=settings)
        self.start()
        with psycopg.connect(self.url.replace(DATABASE, "postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")

    def start(self) -> None:
        self._pg_ctl("start", "-l", str(self.log))

    def stop(self) -> None:
        self._pg_ctl("stop", "-m", "fast")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "immediate")

    def _pg_ctl(self, *args: str) -> None:
        self._run(postgres_program("pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args)

    def _run(self, *command: str, stdin: str | None = None) -> None:
        wrapped = ["runuser", "-u", "postgres", "--", *command] if self._as_postgres else list(command)
        done = subprocess.run(
            wrapped, input=stdin, text=True, capture_output=True, cwd=self.root, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command[:2])} failed: {done.stderr.strip() or done.stdout.strip()}")


class CentralInstance:
    """One `hallwatch serve` on a fixed loopback port, as `hallwatch-central@PORT.service` runs it;
    killed with SIGKILL (nothing is closed politely) and started again on the same port."""

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.port = free_port()
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def upstream(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return running_pid(self.process)

    def start(self) -> None:
        self.process = spawn_serve(self.port, self.env, self.log)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if httpx.get(f"http://{self.upstream}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process is None or self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"central {self.name} did not start: see {self.log}")
            time.sleep(0.2)

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        terminate(self.process, wait_s=30)


class JobsProcess:
    """`hallwatch jobs`, as hallwatch-jobs.service runs it beside the instances (which leave the periodic
    jobs to it, HALLWATCH_SERVE_RUNS_JOBS=false in production's env)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return running_pid(self.process)

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "central.cli", "jobs"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        terminate(self.process, wait_s=90)  # the pass in progress ends first


def running_pid(process: subprocess.Popen[bytes] | None) -> int | None:
    return process.pid if process is not None and process.poll() is None else None


def terminate(process: subprocess.Popen[bytes] | None, *, wait_s: float) -> None:
    """SIGTERM and wait (systemd's stop), SIGKILL after `wait_s`; nothing if it is not running."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(wait_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(30)


def rss_kb(pid: int) -> int | None:
    """The process's resident memory from /proc (None once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


@contextmanager
def small_disk(directory: Path) -> Iterator[Literal["tmpfs", "page_limit"]]:
    """A tmpfs of SMALL_DISK_MB at `directory` for the disk agent's outbox, unmounted afterwards; where
    mounting is not allowed (not root), a plain directory and SQLite's page limit instead."""
    directory.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK_MB}m,mode=0700", "tmpfs", str(directory)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        logger.warning(
            "no tmpfs for the disk agent (%s): SQLite's page limit stands in", mounted.stderr.strip()
        )
        yield "page_limit"
        return
    try:
        yield "tmpfs"
    finally:
        subprocess.run(["umount", "--lazy", str(directory)], check=False)

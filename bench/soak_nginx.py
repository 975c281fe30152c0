"""nginx for the soak: the SHIPPED site (deploy/nginx/hallwatch.conf, filled in by deploy/render.py with
the soak's ports and a test CA's certificate) inside a main configuration standing in for Debian's
/etc/nginx/nginx.conf, every path under a temporary prefix, run in the foreground (never the system's
service). The main configuration differs from Debian's in one way that matters: Debian's 768
`worker_connections` cannot hold 2,000 screens and 200 agents (each proxied stream takes two), so a
province's proxy raises it, as this one does.
"""

from __future__ import annotations

import logging
import resource
import shutil
import socket
import subprocess
import time
from pathlib import Path

from bench.common import free_port
from tests.deploy.stack import SBIN, TlsFiles, render_site

logger = logging.getLogger(__name__)

WORKER_CONNECTIONS = (
    16384  # at most: half the open-files limit, since each takes a file and a socket upstream
)


class Nginx:
    def __init__(self, prefix: Path, tls: TlsFiles, upstreams: list[str]) -> None:
        found = shutil.which("nginx") or shutil.which("nginx", path=":".join(SBIN))
        if found is None:
            raise SystemExit("no nginx: apt-get install -y nginx (make deploy-tools does)")
        self.program = found
        self.prefix = prefix
        self.https_port = free_port()
        self.main = prefix / "nginx.conf"
        self.process: subprocess.Popen[bytes] | None = None
        prefix.mkdir(parents=True)
        prefix.chmod(0o755)  # nginx's workers (not root) keep request bodies under it
        site = render_site(prefix, tls, upstreams, self.https_port)
        temp = "".join(
            f"    {kind}_temp_path {prefix / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        files = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        self.main.write_text(
            f"worker_processes auto;\nworker_rlimit_nofile {files};\n"
            f"pid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'};\n"
            f"events {{\n    worker_connections {min(WORKER_CONNECTIONS, files // 2)};\n}}\n"
            f"http {{\n{temp}    include {site};\n}}\n",
            encoding="utf-8",
        )

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def start(self) -> None:
        command = [
            self.program,
            "-p",
            str(self.prefix),
            "-c",
            str(self.main),
            "-e",
            str(self.prefix / "error.log"),
        ]
        self.process = subprocess.Popen(
            [*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while not _accepts(self.https_port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"nginx did not start: {(self.prefix / 'error.log').read_text()[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False

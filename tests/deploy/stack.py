"""The production set-up's parts for the tests, each from what deploy/ ships: certificates of a test CA
(trustme), central instances as `hallwatch serve` processes, nginx from deploy/nginx/hallwatch.conf
and coturn from deploy/coturn/turnserver.conf, each in a temporary directory of its own (never the
system's services, files or ports)."""

from __future__ import annotations

import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import trustme

from deploy.render import render_file
from tests.edge.contract import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
START_TIMEOUT_S = 60.0
SBIN = ("/usr/sbin", "/sbin")  # nginx lives there, off an ordinary user's PATH


def need_program(name: str, package: str) -> str:
    """The program's path; a skip (a failure on CI, which installs it) when it is missing."""
    found = shutil.which(name) or shutil.which(name, path=os.pathsep.join(SBIN))
    if found is None:
        message = f"needs Debian's {package} ({name}): apt-get install -y {package} (make deploy-tools does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@dataclass(frozen=True)
class TlsFiles:
    ca: Path  # the test CA's certificate: what clients trust (SSL_CERT_FILE)
    certificate: Path  # the server's chain, leaf first, for 127.0.0.1 and localhost
    key: Path


def issue_tls(directory: Path) -> TlsFiles:
    ca = trustme.CA(organization_name="hallwatch tests")
    server = ca.issue_cert("127.0.0.1", "localhost")
    files = TlsFiles(directory / "ca.pem", directory / "fullchain.pem", directory / "privkey.pem")
    ca.cert_pem.write_to_path(str(files.ca))
    files.certificate.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    server.private_key_pem.write_to_path(str(files.key))
    files.key.chmod(0o600)
    return files


def spawn_serve(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`hallwatch serve` on a loopback port, as hallwatch-central@PORT.service runs it, its output
    appended to `log` (the deploy tests' instances and the soak's)."""
    command = [sys.executable, "-m", "central.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


class Central:
    """One `hallwatch serve` on a fixed loopback port, as hallwatch-central@PORT.service runs it; it can
    be killed (SIGKILL: it dies, nothing is closed politely) and started again on the same port."""

    def __init__(self, database_url: str, log: Path, **settings: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "HALLWATCH_DATABASE_URL": database_url, **settings}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Central:
        self.process = spawn_serve(self.port, self.env, self.log)
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._healthy():
            assert self.process is not None
            assert self.process.poll() is None, (
                f"central on {self.port} exited: {self.log.read_text()[-2000:]}"
            )
            assert time.monotonic() < deadline, f"central on {self.port} did not start: {self.log}"
            time.sleep(0.2)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None:
            end(self.process)

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False


@dataclass(frozen=True)
class NginxFiles:
    prefix: Path
    main: Path  # stands in for Debian's /etc/nginx/nginx.conf: the shipped site inside http {}
    site: Path  # deploy/nginx/hallwatch.conf, rendered
    https_port: int

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def command(self, nginx: str, *args: str) -> list[str]:
        return [
            nginx,
            "-p",
            str(self.prefix),
            "-c",
            str(self.main),
            "-e",
            str(self.prefix / "error.log"),
            *args,
        ]


def render_site(prefix: Path, tls: TlsFiles, upstreams: list[str], https_port: int) -> Path:
    """The shipped site (deploy/nginx/hallwatch.conf) filled in for loopback, written under `prefix`."""
    values = {
        "SERVER_NAME": "localhost",
        "HTTPS_LISTEN": f"127.0.0.1:{https_port}",
        "HTTP_LISTEN": f"127.0.0.1:{free_port()}",
        "TLS_CERTIFICATE": str(tls.certificate),
        "TLS_CERTIFICATE_KEY": str(tls.key),
        "CENTRAL_UPSTREAMS": ",".join(upstreams),
        "LOG_DIR": str(prefix),
    }
    site = prefix / "hallwatch.conf"
    site.write_text(render_file(DEPLOY / "nginx" / "hallwatch.conf", values), encoding="utf-8")
    return site


def nginx_files(prefix: Path, tls: TlsFiles, upstreams: list[str]) -> NginxFiles:
    """The shipped site rendered for loopback (TLS on a free port, the test CA's certificate), inside a
    minimal main configuration whose paths all lie under `prefix`."""
    prefix.mkdir(parents=True, exist_ok=True)
    https_port = free_port()
    site = render_site(prefix, tls, upstreams, https_port)
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = prefix / "nginx.conf"
    main.write_text(
        f"worker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'};\n"
        f"events {{\n    worker_connections 512;\n}}\nhttp {{\n{temp}\n    include {site};\n}}\n",
        encoding="utf-8",
    )
    return NginxFiles(prefix, main, site, https_port)


@contextmanager
def running_nginx(nginx: str, files: NginxFiles) -> Iterator[str]:
    """nginx in the foreground on the rendered files until the block ends; yields its https:// URL."""
    process = subprocess.Popen(
        files.command(nginx, "-g", "daemon off;"), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        wait_until(lambda: process.poll() is not None or _accepts(files.https_port), what="nginx listening")
        assert process.poll() is None, (files.prefix / "error.log").read_text()
        yield files.url
    finally:
        end(process)  # nginx's fast shutdown: open streams are cut


def end(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and SIGKILL if that is not enough within 30 s."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(30)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class CoturnFiles:
    config: Path
    log: Path
    port: int  # turn: over UDP and TCP
    secret: str  # static-auth-secret: central mints credentials from it

    def command(self, turnserver: str) -> list[str]:
        return [turnserver, "-c", str(self.config)]


# The test's own lines after the shipped ones: both peers are on loopback, which the shipped file
# denies (as every private address); the log says what each session did.
COTURN_TEST_LINES = """
# tests only: relay between peers on loopback, keep the user database here, log each request
allow-loopback-peers
allowed-peer-ip=127.0.0.1
userdb={directory}/turndb
verbose
"""


def coturn_files(directory: Path, tls: TlsFiles) -> CoturnFiles:
    """deploy/coturn/turnserver.conf rendered for loopback (free ports, relay ports below Linux's
    ephemeral range so they meet no other socket), plus COTURN_TEST_LINES."""
    directory.mkdir(parents=True, exist_ok=True)
    port, relay_base = free_port(), random.randrange(20_000, 32_000, 100)
    files = CoturnFiles(directory / "turnserver.conf", directory / "turn.log", port, secrets.token_hex(32))
    values = {
        "REALM": "hallwatch.test",
        "LISTEN_IPS": "127.0.0.1",
        "RELAY_IPS": "127.0.0.1",
        "TURN_PORT": str(port),
        "TURN_TLS_PORT": str(free_port()),
        "MIN_PORT": str(relay_base),
        "MAX_PORT": str(relay_base + 99),
        "TURN_SECRET": files.secret,
        "TLS_CERTIFICATE": str(tls.certificate),
        "TLS_CERTIFICATE_KEY": str(tls.key),
        "LOG_FILE": str(files.log),
        "PID_FILE": str(directory / "turnserver.pid"),
    }
    shipped = render_file(DEPLOY / "coturn" / "turnserver.conf", values)
    files.config.write_text(shipped + COTURN_TEST_LINES.format(directory=directory), encoding="utf-8")
    return files


@contextmanager
def running_coturn(turnserver: str, files: CoturnFiles) -> Iterator[None]:
    """coturn in the foreground until the block ends, once its UDP listener is open."""
    process = subprocess.Popen(files.command(turnserver), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    listening = f"UDP listener opened on: 127.0.0.1:{files.port}"
    try:
        wait_until(
            lambda: process.poll() is not None or listening in read_log(files.log), what="coturn listening"
        )
        assert process.poll() is None, read_log(files.log)
        yield
    finally:
        end(process)


def read_log(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

"""`hallwatch serve` migrates a fresh database and answers over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_migrates_and_answers(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "HALLWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "central.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not start within 60 s"
                time.sleep(0.3)
        assert response.status_code == 200
        # the schema is there: the API answers (and asks for a token), the sign-in page renders
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/calendar/check", timeout=5).status_code == 401
        login = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/auth/token", data={"username": "nobody", "password": "x"}
        )
        assert (
            login.status_code == 401 and "wrong username or password" in login.text
        )  # the users table exists
        page = httpx.get(f"http://127.0.0.1:{port}/console/cases", timeout=5, follow_redirects=True)
        assert page.status_code == 200 and "登录电子监察系统" in page.text
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert (tmp_path / "fresh.db").exists()

"""The marquee part of bench/displays.py: a case event → on the LED marquee, through everything.

Central (`hallwatch serve`), the display agent (`hallwatch display run`, its own process with its
device key) and the marquee page in headless Chromium at 384×64. A MutationObserver in the page notes
the wall-clock time each case's entry appears; the bench notes when it sent each case's push; both on
this machine's clock.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import free_port, served_process
from bench.live_browser import browser_page

MARQUEE_WIDTH, MARQUEE_HEIGHT = 384, 64
CONNECTED = "() => (window.hallwatchDisplay?.status || {}).central === 'connected'"
# Notes when each entry (data-case-no) first shows, in epoch milliseconds.
OBSERVE = """() => {
  window.benchSeen = {};
  const note = () => { for (const node of document.querySelectorAll('#entries [data-case-no]')) {
    const no = node.getAttribute('data-case-no');
    if (!(no in window.benchSeen)) window.benchSeen[no] = performance.timeOrigin + performance.now(); } };
  note();
  new MutationObserver(note).observe(document.getElementById('entries'), {childList: true, subtree: true});
}"""


@contextmanager
def display_agent(workdir: Path, *, hall: str, central: str, key: str) -> Iterator[str]:
    """`hallwatch display run` for an LED display of `hall` on a free port; yields its base URL."""
    port = free_port()
    config = workdir / "display.yaml"
    config.write_text(
        f"hall: {hall}\ncentral:\n  url: {central}\ndisplays:\n  - name: LED-BENCH\n    kind: led\n"
        f"    listen_port: {port}\n    cache_dir: {workdir / 'display-cache'}\n"
        f"    led: {{width: {MARQUEE_WIDTH}, height: {MARQUEE_HEIGHT}}}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "HALLWATCH_DISPLAY_KEY": key}
    command = [sys.executable, "-m", "central.cli", "display", "run", str(config), "--display", "LED-BENCH"]
    url = f"http://127.0.0.1:{port}"
    with served_process(
        command, env=env, ready_url=f"{url}/display-config.json", what="the display agent", quiet=True
    ):
        yield url


def marquee_latencies(agent_url: str, push: Callable[[str], None], count: int) -> list[float]:
    """Milliseconds from each push being sent to its case showing on the marquee."""
    sent: dict[str, float] = {}
    with browser_page(agent_url) as page:
        page.set_viewport_size({"width": MARQUEE_WIDTH, "height": MARQUEE_HEIGHT})
        page.goto(f"{agent_url}/marquee")
        page.wait_for_function(CONNECTED, timeout=30_000)
        page.evaluate(OBSERVE)
        for n in range(count):
            case_no = f"M-{n:04d}"
            sent[case_no] = time.time() * 1000
            push(case_no)
            page.wait_for_function(f"() => '{case_no}' in window.benchSeen", timeout=30_000)
            time.sleep(0.2)
        seen: dict[str, float] = page.evaluate("() => window.benchSeen")
    return [seen[no] - at for no, at in sent.items()]

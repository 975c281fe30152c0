"""A patrol in headless Chromium through the whole real path (issue 15 item 4): the inspector starts a
patrol from the live page, the browser's own WebRTC plays the real edge agent's camera (its window
has a privacy mask), a finding is recorded on the window, the agent uploads its snapshot and the
clip of the seconds before it (decodable, the masked pixels black), the inspector ends the patrol,
and central judges it on the browser's counts against the agent's own report of what it sent.

The profile's minimum viewing time is shortened for the test (Sichuan asks 120 s); everything else
is the shipped profile. Loopback only, as in tests/central/live/test_live_browser.py."""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import av
import cv2
import httpx
import numpy as np
import pytest
from sqlalchemy import Engine, select

from central.core.db import make_session_factory
from central.patrols.models import PatrolFinding, PatrolSession
from central.profiles import assignment
from central.video.models import Evidence, EvidenceImage
from common.profiles.loader import get_profile
from common.profiles.schema import RuleProfile
from edge.agent import Agent
from edge.live.probe import ProbeViewer
from tests.browser import chromium, local_page, sign_in
from tests.central.devices.helpers import edge
from tests.central.live.helpers import offer, people
from tests.central.live.test_live_browser import WEBRTC_ARGS
from tests.central.live.test_live_e2e import LIVE_ON, WAIT_S, camera_online_at_central, central, real_time
from tests.conftest import FakeClock, SignedIn
from tests.edge.contract import wait_until

__all__ = ["central", "edge", "people", "real_time"]
MIN_VIEWING_S = 3
# W01 on the camera's left half, its right quarter masked (black before anything is encoded).
WINDOW = """\
windows:
  - name: W01
    camera: CAM-1
    staff_region: [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]
    customer_region: [[0.5, 0], [0.75, 0], [0.75, 1], [0.5, 1]]
    privacy_masks: [[[0.75, 0], [1, 0], [1, 1], [0.75, 1]]]
    working_hours: ["00:00-24:00"]
    breaks: []
    working_days: all
"""


@pytest.fixture
def short_patrols(monkeypatch: pytest.MonkeyPatch) -> None:
    def profile(key: str) -> RuleProfile:
        shipped = get_profile(key)
        rules = shipped.patrols.model_copy(
            update={"min_viewing_seconds": MIN_VIEWING_S, "finding_clip_seconds": 4}
        )
        return shipped.model_copy(update={"patrols": rules})

    monkeypatch.setattr(assignment, "get_profile", profile)


async def second_viewer(url: str, who: SignedIn) -> int:
    """Frames an aiortc viewer decodes through central's live API (then its view is ended)."""
    probe = ProbeViewer()
    sdp = await probe.offer()
    async with httpx.AsyncClient(base_url=url, auth=who, trust_env=False, timeout=WAIT_S + 30) as api:
        answer = await api.post("/api/v1/live/offer", json=offer(profile="tile", sdp=sdp))
        assert answer.status_code == 200, answer.text
        await probe.accept(answer.json()["sdp"])
        frames = await probe.wait_frames(3, WAIT_S)
        await api.delete(f"/api/v1/live/viewers/{answer.json()['viewer']}")
    await probe.close()
    return frames


def a_second_viewer_joins_the_running_encoder(running: Agent, central: str, who: SignedIn) -> None:
    assert running.live is not None
    spells = running.live.stream_stats("CAM-1", "tile").encoders_started  # the live page's went
    with ThreadPoolExecutor(1) as pool:  # its own loop: Playwright's runs on this thread
        assert pool.submit(asyncio.run, second_viewer(central, who)).result() >= 3
    assert running.live.stream_stats("CAM-1", "tile").encoders_started == spells  # no new encoder


def masked_share(image: np.ndarray) -> float:
    """How dark the masked right quarter is: the share of its pixels below 16 of 255."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    width = gray.shape[1]
    region = gray[:, int(width * 0.78) :]  # inside the mask, clear of its scaled edge
    return float((region < 16).mean())


def clip_frames(webm: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(webm)) as container:
        return [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]


def test_a_patrol_in_chromium_records_a_finding_with_its_clip_and_counts_with_proof_of_viewing(
    tmp_path: Path,
    central: str,
    db: Engine,
    edge: dict[str, dict[str, str]],
    people: dict[str, SignedIn],
    short_patrols: None,
    real_time: FakeClock,
) -> None:
    from tests.central.live.test_live_e2e import agent

    with agent(tmp_path, central, edge["EDGE-P"]["X-Device-Key"], live=LIVE_ON + WINDOW) as running:
        assert isinstance(running, Agent)
        wait_until(lambda: camera_online_at_central(db), what="the camera online at central", timeout=WAIT_S)
        with (
            chromium(*WEBRTC_ARGS) as browser,
            local_page(browser, central, permissions=["camera", "microphone"]) as tab,
        ):
            tab.set_default_timeout(WAIT_S * 1000)  # a loaded machine (CI) is slow to load pages with video
            sign_in(tab, central, "prov", people["prov"].password)
            tab.goto(f"{central}/console/live/510000-ZWFW")
            tab.get_by_role("button", name="开始计划外巡查（记录发现、计入台帐）").click()
            tab.wait_for_url("**/console/patrols/sessions/*")
            tab.wait_for_function(
                "() => Number(document.querySelector('.live-tile').dataset.framesDecoded || 0) >= 5",
                timeout=WAIT_S * 1000,
            )
            # A second viewer at once (another inspector, aiortc through central): the same tile encoder
            # serves both.
            a_second_viewer_joins_the_running_encoder(running, central, people["prov2"])
            tab.locator(".live-tile").first.click()  # focus: the full-size stream, whose ring holds the clip
            tab.wait_for_function(
                "() => (document.querySelector('.live-state').textContent || '').startsWith('放大')"
                " && Number(document.querySelector('.live-tile').dataset.framesDecoded || 0) >= 20",
                timeout=WAIT_S * 1000,
            )
            real_time.now = datetime.now(UTC)  # central's clock (held still by the fixture) at the finding
            tab.get_by_label("类别").select_option(label="玩手机")
            tab.get_by_label("说明", exact=True).fill("低头玩手机约一分钟")
            tab.get_by_role("button", name="记录", exact=True).click()
            tab.get_by_text("已记录：玩手机（1号窗口）").wait_for(timeout=WAIT_S * 1000)
            tab.wait_for_timeout(MIN_VIEWING_S * 1000 + 1500)  # watch past the (shortened) minimum
            tab.get_by_role("button", name="结束巡查").click()
            tab.wait_for_function(
                "() => !document.getElementById('end-form')", timeout=WAIT_S * 1000
            )  # reloaded: the patrol has ended
        factory = make_session_factory(db)

        def judged() -> bool:
            with factory() as session:
                patrol = session.scalars(select(PatrolSession)).one()
                return patrol.state in ("complete", "incomplete")

        wait_until(judged, what="the patrol judged on the agent's report", timeout=WAIT_S)
        with factory() as session:
            patrol = session.scalars(select(PatrolSession)).one()
            assert patrol.state == "complete", patrol.verdict
            assert patrol.watched_seconds is not None and patrol.watched_seconds >= MIN_VIEWING_S
            finding = session.scalars(select(PatrolFinding)).one()
            assert (finding.category, finding.note) == ("phone", "低头玩手机约一分钟")

        def captured() -> list[str]:
            with factory() as session:
                return sorted(
                    session.scalars(select(Evidence.media_type).where(Evidence.capture == finding.capture))
                )

        wait_until(
            lambda: captured() == ["image/jpeg", "video/webm"],
            what="the snapshot and the clip",
            timeout=WAIT_S,
        )
        with factory() as session:
            media = {
                e.media_type: session.get(EvidenceImage, e.id)
                for e in session.scalars(select(Evidence).where(Evidence.capture == finding.capture))
            }
    snapshot = media["image/jpeg"]
    clip = media["video/webm"]
    assert snapshot is not None and clip is not None
    jpeg = cv2.imdecode(np.frombuffer(snapshot.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert jpeg is not None and masked_share(jpeg) > 0.95
    frames = clip_frames(clip.jpeg)
    assert len(frames) >= 5  # seconds of video at the focus rate, decodable from its first frame
    assert all(masked_share(f) > 0.95 for f in frames)
    assert (
        float(cv2.cvtColor(frames[-1], cv2.COLOR_BGR2GRAY)[:, : frames[-1].shape[1] // 2].std()) > 5
    )  # a picture

"""A real display agent (its own event loop, real HTTP on loopback) against a fake central: it relays
the feed with its ids, resumes, keeps showing its copy when central is gone (even after its own
restart), says so in status events, and catches up when central comes back."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.hall_display import samples
from tests.hall_display.fake_central import FakeCentral
from tests.hall_display.harness import (
    TEST_KEY,
    display_settings,
    page_stream,
    running_agent,
    wait_for,
)


def cases_of(progress: httpx.Response) -> list[str]:
    assert progress.status_code == 200, progress.text
    return [c["case_no"] for c in progress.json()["cases"]]


def test_the_agent_relays_central_changes_to_its_pages_with_their_ids(
    tmp_path: Path, fake_central: FakeCentral
) -> None:
    with running_agent(display_settings(tmp_path, fake_central.url)) as agent:
        with page_stream(agent) as page:
            first = page.until(lambda e: e.event == "snapshot")
            assert first.id == "7" and json.loads(first.data)["last_event_id"] == 7
            page.until_status("connected")
            new_id = fake_central.publish_case(samples.case(3, light="yellow"))
            change = page.until(lambda e: e.event == "case")
            assert (change.id, json.loads(change.data)["case_no"]) == (str(new_id), "SC2026000003")
            fake_central.publish("case_removed", '{"case_no": "SC2026000001"}')
            assert page.until(lambda e: e.event == "case_removed").id == str(new_id + 1)
        progress = httpx.get(agent.api("progress"))
        assert cases_of(progress) == ["SC2026000002", "SC2026000003"]
        assert progress.json()["last_event_id"] == new_id + 1
        stream = fake_central.streams_opened()[0]
        assert stream.headers["x-device-key"] == TEST_KEY and "last-event-id" not in stream.headers


def test_a_page_resumes_with_last_event_id_from_the_agents_ring(
    tmp_path: Path, fake_central: FakeCentral
) -> None:
    with running_agent(display_settings(tmp_path, fake_central.url)) as agent:
        with page_stream(agent) as page:
            page.until(lambda e: e.event == "snapshot")
            ids = [fake_central.publish_case(samples.case(n)) for n in (3, 4, 5)]
            page.until(lambda e: e.id == str(ids[-1]))
        with page_stream(agent, last_event_id=ids[0]) as page:
            replayed = [page.next() for _ in range(3)]
        assert [(e.event, e.id) for e in replayed] == [
            ("case", str(ids[1])),
            ("case", str(ids[2])),
            ("status", str(ids[2])),
        ]
        for header, reason in ((ids[-1] + 5, "ahead"), (3, "behind"), ("garbage", "start")):
            with page_stream(agent, last_event_id=header) as page:
                event = page.next()
            assert (event.event, json.loads(event.data)["reason"]) == ("snapshot", reason), header
        with page_stream(agent, last_event_id=ids[-1]) as page:
            assert page.next().event == "status"  # up to date: nothing to replay


def test_central_gone_the_agent_keeps_serving_its_copy_and_says_how_old(
    tmp_path: Path, fake_central: FakeCentral
) -> None:
    with running_agent(display_settings(tmp_path, fake_central.url)) as agent:
        with page_stream(agent) as page:
            page.until_status("connected")
            wait_for(lambda: httpx.get(agent.api("catalog")).status_code == 200, "the catalog fetched")
            fake_central.stop()
            status = page.until_status("unreachable")
        assert status["updated_at"] is not None and status["last_event_id"] == 7
        assert cases_of(httpx.get(agent.api("progress"))) == ["SC2026000001", "SC2026000002"]
        assert httpx.get(agent.api("info")).json()["sections"][0]["title"] == "投诉方式"


def test_restarted_with_central_down_it_starts_from_the_copy_on_disk(
    tmp_path: Path, fake_central: FakeCentral
) -> None:
    settings = display_settings(tmp_path, fake_central.url)
    with running_agent(settings) as agent:
        with page_stream(agent) as page:
            page.until(lambda e: e.event == "snapshot")
            last = fake_central.publish_case(samples.case(3))
            page.until(lambda e: e.id == str(last))
        wait_for(lambda: httpx.get(agent.api("info")).status_code == 200, "the info fetched")
    fake_central.stop()
    with running_agent(settings) as agent:
        progress = httpx.get(agent.api("progress"))
        assert cases_of(progress) == ["SC2026000001", "SC2026000002", "SC2026000003"]
        assert progress.json()["last_event_id"] == last
        assert httpx.get(agent.api("catalog")).json()["items"][0]["code"] == "SC-001"
        with page_stream(agent) as page:
            snapshot = page.next()
            assert (snapshot.event, snapshot.id) == ("snapshot", str(last))
            assert page.until_status("unreachable")["updated_at"] is not None


def test_central_back_the_agent_catches_up_missing_nothing_and_nothing_twice(
    tmp_path: Path, fake_central: FakeCentral
) -> None:
    settings = display_settings(tmp_path, fake_central.url)
    with running_agent(settings) as agent, page_stream(agent) as page:
        page.until_status("connected")
        fake_central.stop()
        page.until_status("unreachable")
        missed = [fake_central.publish_case(samples.case(n)) for n in (3, 4)]  # while the agent cannot see
        fake_central.start()
        page.until_status("connected")
        page.until(lambda e: e.id == str(missed[-1]))
        changes = [e.id for e in page.seen if e.event == "case"]
        assert changes == [str(i) for i in missed]
        resumed = fake_central.streams_opened()[-1]
        assert resumed.headers["last-event-id"] == "7"  # the agent asked for what it missed
        assert len(cases_of(httpx.get(agent.api("progress")))) == 4


def test_started_with_central_down_it_connects_when_central_comes_up(
    tmp_path: Path, fake_central: FakeCentral
) -> None:
    fake_central.stop()
    with running_agent(display_settings(tmp_path, fake_central.url)) as agent:
        assert httpx.get(agent.api("progress")).status_code == 503
        assert "尚未" in httpx.get(agent.api("catalog")).json()["detail"]
        with page_stream(agent) as page:
            page.until_status("unreachable")
            fake_central.start()
            page.until_status("connected")
            assert page.until(lambda e: e.event == "snapshot").id == "7"
        assert len(cases_of(httpx.get(agent.api("progress")))) == 2


def test_a_refused_key_is_retried_until_central_accepts_it(
    tmp_path: Path, fake_central: FakeCentral, caplog
) -> None:
    fake_central.accepted_keys = {"hwk_other"}
    with running_agent(display_settings(tmp_path, fake_central.url)) as agent, page_stream(agent) as page:
        page.until_status("unreachable")
        wait_for(lambda: len(fake_central.streams_opened()) >= 2, "a second try")
        fake_central.accepted_keys = {TEST_KEY}  # an administrator issued the key
        page.until_status("connected")
    refused = [r for r in caplog.records if "refused this display's device key" in r.getMessage()]
    assert len(refused) == 1 and refused[0].levelname == "ERROR"


def test_a_silent_stream_counts_as_dropped(tmp_path: Path, fake_central: FakeCentral) -> None:
    from hall_display.agent import Tuning

    fake_central.silent = True
    settings = display_settings(tmp_path, fake_central.url)
    with running_agent(settings, tuning=Tuning(read_timeout_seconds=0.5, page_keepalive_seconds=1.0)):
        wait_for(lambda: len(fake_central.streams_opened()) >= 3, "reconnects after silence")
    assert fake_central.streams_opened()[-1].headers["last-event-id"] == "7"


def test_an_event_it_cannot_read_makes_it_start_over_from_a_snapshot(
    tmp_path: Path, fake_central: FakeCentral
) -> None:
    fake_central.garbage = b'id: 8\nevent: case\ndata: {"case_no": \n\n'
    with running_agent(display_settings(tmp_path, fake_central.url)) as agent:
        wait_for(lambda: len(fake_central.streams_opened()) >= 2, "a second stream")
        assert "last-event-id" not in fake_central.streams_opened()[1].headers
        with page_stream(agent) as page:
            page.until_status("connected")
        assert len(cases_of(httpx.get(agent.api("progress")))) == 2


def test_the_kiosk_lookup_is_passed_to_central_and_its_answer_back(
    tmp_path: Path, fake_central: FakeCentral
) -> None:
    body = {"case_no": "SC2026000001", "password": "123456"}
    with running_agent(display_settings(tmp_path, fake_central.url, kind="kiosk")) as agent:
        lookup = f"{agent.url}/api/v1/public/cases/lookup"
        answer = httpx.post(lookup, json=body)
        assert (answer.status_code, answer.json()["detail"]) == (404, "未找到该办件，或查询密码不正确")
        fake_central.lookup.status, fake_central.lookup.headers = 429, {"Retry-After": "30"}
        answer = httpx.post(lookup, json=body)
        assert (answer.status_code, answer.headers["retry-after"]) == (429, "30")
        sent = [s for s in fake_central.seen if s.path.endswith("/lookup")]
        assert json.loads(sent[0].body) == body and sent[0].headers["x-device-key"] == TEST_KEY
        fake_central.stop()
        answer = httpx.post(lookup, json=body)
        assert (answer.status_code, answer.json()) == (503, {"detail": "暂时无法连接中心，请稍后再试"})

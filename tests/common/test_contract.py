"""The device wire contract (`common.contract`): what each side accepts and refuses, and a round trip —
every observation the edge builds, stored by its outbox and sent as JSON, is what central's models
accept, with the optional fields omitted or null exactly as the edge means them."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from common.contract import (
    MAX_CLIP_BASE64,
    ClipIn,
    CommandPage,
    KeypadPressIn,
    ObservationBatch,
    PatrolCaptureCommand,
    PatrolCapturePayload,
    PromptCommand,
    PromptPayload,
    VisitorCountIn,
    to_wire,
)
from edge.commands import CommandsAnswer, OtherCommand
from edge.keypads.health import KeypadStatus, health_observation
from edge.keypads.reader import press_observation
from edge.live.clips import Clip
from edge.outbox import encode_observation
from edge.patrol_capture import clip_observation
from edge.video.camera_health import CameraStatus
from edge.video.camera_health import health_observation as camera_health_observation
from edge.video.events import AbsenceEnded, AbsenceStarted, PresenceInterval, VisitorHour, to_observation
from edge.video.evidence import Snapshot, evidence_observation
from rating_device.protocol import Key

AT = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
HOUR = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)  # 09:00 in the hall
JPEG = b"\xff\xd8\xff\xe0fake"


def _press(*, verdict: bool | str | None = "no camera") -> dict[str, Any]:
    press = press_observation(keypad="KP-W01", window="W01", seq=7, key=Key(5, 1001), at=AT)
    if verdict != "no camera":
        press.citizen_present = verdict  # type: ignore[assignment]
    return to_wire(press)


def _keypad_health() -> dict[str, Any]:
    status = KeypadStatus(
        keypad="KP-W01",
        window="W01",
        connected=True,
        online=True,
        firmware="fw 1.2",
        last_heartbeat_at=AT,
        bad_frames=0,
        garbage_bytes=0,
        frames=10,
        presses=1,
        reconnects=0,
    )
    return health_observation(status, obs_id="KP-W01:health:1", at=AT)


def _camera_health() -> dict[str, Any]:
    status = CameraStatus(
        camera="C1",
        online=False,
        fps=0.0,
        frames=0,
        corrupt_frames=0,
        dropped_frames=0,
        reconnects=2,
        connect_failures=3,
        last_frame_at=None,
        source_width=None,
        source_height=None,
        detail="no frame yet",
    )
    window = {"code": "W01", "staffed": True, "seat_taken": None, "taken_since": None}
    return camera_health_observation(status, obs_id="C1:cam:1", at=AT, windows=[window])


def _evidence(origin: str = "live", capture: str | None = None) -> dict[str, Any]:
    snapshot = Snapshot(JPEG, 640, 384, hashlib.sha256(JPEG).hexdigest())
    return evidence_observation(
        snapshot,
        at=AT,
        window="W01",
        camera="C1",
        reason="absence_start" if capture is None else "patrol_finding",
        origin=origin,  # type: ignore[arg-type]
        capture=capture,
    )


CAPTURE = PatrolCaptureCommand(
    id=9,
    kind="patrol_capture",
    capture="finding-12",
    camera="C1",
    window="W01",
    at=AT,
    clip_seconds=10,
    expires_at=AT + timedelta(minutes=10),
)
WEBM = b"\x1a\x45\xdf\xa3fake"


def _clip() -> dict[str, Any]:
    clip = Clip(WEBM, 1280, 720, 140, AT - timedelta(seconds=12), AT, 9400, "focus")
    return clip_observation(clip, command=CAPTURE)


# What the edge builds for each kind, and the keys its JSON body holds (optional ones omitted or null as
# today: an agent without a camera sends no citizen_present; a live camera sends no origin).
EDGE_BUILT: list[tuple[str, Any, set[str]]] = [
    ("press, no camera", _press, {"id", "kind", "at", "window", "keypad", "seq", "key", "uptime_ms"}),
    (
        "press, camera not sure",
        lambda: _press(verdict=None),
        {"id", "kind", "at", "window", "keypad", "seq", "key", "uptime_ms", "citizen_present"},
    ),
    (
        "keypad health",
        _keypad_health,
        {"id", "kind", "at", "window", "keypad", "online", "firmware", "last_heartbeat_at", "bad_frames"}
        | {"reconnects"},
    ),
    (
        "camera health",
        _camera_health,
        {"id", "kind", "at", "camera", "online", "fps", "width", "height", "reconnects", "last_frame_at"}
        | {"detail", "windows"},
    ),
    (
        "presence",
        lambda: to_observation(PresenceInterval("W01", AT, AT + timedelta(minutes=5)), camera="C1"),
        {"id", "kind", "window", "camera", "start", "end"},
    ),
    (
        "absence start",
        lambda: to_observation(
            AbsenceStarted("W01", AT, AT + timedelta(minutes=16)), camera="C1", evidence=["e"]
        ),
        {"id", "kind", "phase", "window", "camera", "started_at", "ended_at", "evidence"},
    ),
    (
        "absence end, from a recording",
        lambda: to_observation(
            AbsenceEnded("W01", AT, AT + timedelta(minutes=20)), camera="C1", origin="recording"
        ),
        {"id", "kind", "phase", "window", "camera", "started_at", "ended_at", "evidence", "origin"},
    ),
    (
        "visitors",
        lambda: to_observation(
            VisitorHour("W01", HOUR, 3, 1200.04, HOUR + timedelta(minutes=40)), camera="C1"
        ),
        {"id", "kind", "window", "camera", "hour_start", "visits", "seated_seconds", "watched_from_second"},
    ),
    (
        "evidence",
        _evidence,
        {"id", "kind", "at", "window", "camera", "reason", "width", "height", "sha256", "jpeg_base64"},
    ),
    (
        "evidence, from a recording",
        lambda: _evidence("recording"),
        {"id", "kind", "at", "window", "camera", "reason", "width", "height", "sha256", "jpeg_base64"}
        | {"origin"},
    ),
    (
        "evidence of a patrol capture",
        lambda: _evidence(capture="finding-12"),
        {"id", "kind", "at", "window", "camera", "reason", "width", "height", "sha256", "jpeg_base64"}
        | {"capture"},
    ),
    (
        "clip",
        _clip,
        {"id", "kind", "capture", "at", "started_at", "window", "camera", "width", "height", "frames"}
        | {"duration_ms", "sha256", "webm_base64"},
    ),
]


@pytest.mark.parametrize(
    ("build", "keys"), [(b, k) for _, b, k in EDGE_BUILT], ids=[n for n, _, _ in EDGE_BUILT]
)
def test_what_the_edge_builds_is_what_central_accepts(build: Any, keys: set[str]) -> None:
    observation = build()
    assert set(observation) == keys
    _id, _kind, body = encode_observation(observation)  # as the outbox stores and the uploader sends it
    [parsed] = ObservationBatch.model_validate_json(f'{{"observations":[{body}]}}').observations
    assert parsed.kind == observation["kind"] and parsed.id == observation["id"]
    assert to_wire(parsed) == json.loads(body)  # nothing lost or added on the way


def test_the_press_without_a_camera_reads_as_no_verdict_at_central() -> None:
    parsed = KeypadPressIn.model_validate(_press())
    assert parsed.citizen_present is None and parsed.id == "KP-W01:7:1001"


GOOD_PRESS = _press()
GOOD_PRESENCE = to_observation(PresenceInterval("W01", AT, AT + timedelta(minutes=5)), camera="C1")
GOOD_CLIP = _clip()


def test_a_capture_has_the_same_ids_however_often_it_is_made() -> None:
    """A command handed over twice stores its snapshot and clip once (the outbox and central dedupe)."""
    assert _clip()["id"] == GOOD_CLIP["id"] != _evidence(capture="finding-12")["id"]
    assert _evidence(capture="finding-12")["id"] == _evidence(capture="finding-12")["id"]
    assert len(GOOD_CLIP["id"]) <= 64 and ClipIn.model_validate(GOOD_CLIP).capture == "finding-12"


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({**GOOD_PRESS, "kind": "keypad_pressed"}, id="unknown kind"),
        pytest.param({k: v for k, v in GOOD_PRESS.items() if k != "kind"}, id="no kind"),
        pytest.param({**GOOD_PRESS, "at": "1999-12-31T23:59:59+00:00"}, id="before 2000"),
        pytest.param({**GOOD_PRESS, "at": "2100-01-01T00:00:00+08:00"}, id="after 2099"),
        pytest.param({**GOOD_PRESS, "at": "2026-11-27T10:00:00"}, id="naive time"),
        pytest.param({**GOOD_PRESS, "rssi": -40}, id="unknown field"),
        pytest.param({**GOOD_PRESS, "key": 6}, id="key out of range"),
        pytest.param({**GOOD_PRESS, "window": "W" * 41}, id="window code too long"),
        pytest.param({**GOOD_PRESENCE, "end": GOOD_PRESENCE["start"]}, id="presence ends as it starts"),
        pytest.param({**GOOD_PRESENCE, "origin": "replay"}, id="unknown origin"),
        pytest.param(
            {**to_observation(AbsenceStarted("W01", AT, AT), camera="C1"), "ended_at": AT.isoformat()},
            id="absence start with an end",
        ),
        pytest.param(
            {
                **to_observation(VisitorHour("W01", HOUR, 1, 5.0), camera="C1"),
                "hour_start": AT.replace(minute=1),
            },
            id="visitor hour off the hour",
        ),
        pytest.param({**_evidence(), "sha256": "ABC"}, id="evidence digest not hex"),
        pytest.param({**_evidence(), "reason": "patrol"}, id="unknown evidence reason"),
        pytest.param({**_evidence(), "capture": "f" * 65}, id="capture reference too long"),
        pytest.param({**_evidence(), "capture": ""}, id="capture reference empty"),
        pytest.param(
            {**GOOD_CLIP, "started_at": (AT + timedelta(seconds=1)).isoformat()},
            id="clip starts after the finding",
        ),
        pytest.param({**GOOD_CLIP, "webm_base64": "A" * (MAX_CLIP_BASE64 + 4)}, id="clip over its size cap"),
        pytest.param({**GOOD_CLIP, "frames": 0}, id="clip without frames"),
        pytest.param({**GOOD_CLIP, "duration_ms": -1}, id="clip of negative duration"),
        pytest.param({**GOOD_CLIP, "sha256": "0" * 63}, id="clip digest short"),
        pytest.param({k: v for k, v in GOOD_CLIP.items() if k != "capture"}, id="clip without its capture"),
        pytest.param({**GOOD_CLIP, "jpeg_base64": "AAAA"}, id="clip with a snapshot's field"),
    ],
)
def test_central_refuses_malformed_observations(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ObservationBatch.model_validate({"observations": [bad]})


def test_a_malformed_observation_fails_at_the_edge() -> None:
    with pytest.raises(ValidationError, match="end must be after start"):
        to_observation(PresenceInterval("W01", AT, AT), camera="C1")
    with pytest.raises(ValidationError, match="dates must lie between"):
        press_observation(
            keypad="KP-W01", window="W01", seq=1, key=Key(3, 1), at=datetime(2100, 1, 1, tzinfo=UTC)
        )
    with pytest.raises(ValidationError):
        to_observation(VisitorHour("W" * 41, HOUR, 1, 5.0), camera="C1")


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(ValidationError):
        ObservationBatch.model_validate({"observations": []})


# --- commands ---------------------------------------------------------------------------------------

EXPIRES = (AT + timedelta(minutes=3)).isoformat()
PROMPT = {
    "id": 1,
    "kind": "prompt",
    "window": "W01",
    "case_no": "C1",
    "staff_name": "张三",
    "staff_no": "S001",
    "text": "请评价",
    "expires_at": EXPIRES,
}


def test_a_prompt_as_central_queues_it_and_sends_it() -> None:
    payload = PromptPayload(window="W01", case_no="C1", staff_name="张三", staff_no="S001")
    command = PromptCommand.model_validate(
        {**payload.model_dump(), "id": 1, "kind": "prompt", "expires_at": EXPIRES}
    )
    assert command.model_dump(mode="json") == {**PROMPT, "expires_at": "2026-11-27T02:03:00Z"}
    assert payload.KIND == command.kind == "prompt"
    page = CommandPage.model_validate({"commands": [PROMPT], "cursor": 1})
    assert page.commands == [command]


def test_a_patrol_capture_as_central_queues_it_and_sends_it() -> None:
    payload = PatrolCapturePayload(capture="finding-12", camera="C1", window="W01", at=AT, clip_seconds=10)
    stored = payload.model_dump(mode="json")
    assert "kind" not in stored and payload.KIND == "patrol_capture"
    wire = {**stored, "id": 9, "kind": "patrol_capture", "expires_at": CAPTURE.expires_at.isoformat()}
    page = CommandPage.model_validate({"commands": [wire], "cursor": 9})
    assert page.commands == [CAPTURE]
    answer = CommandsAnswer.model_validate({"commands": [wire | {"priority": "high"}], "cursor": 9})
    assert answer.commands == [CAPTURE]  # a field a newer central adds is ignored


CAPTURE_WIRE = {**CAPTURE.model_dump(mode="json")}


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({**CAPTURE_WIRE, "clip_seconds": 0}, id="no clip seconds"),
        pytest.param({**CAPTURE_WIRE, "clip_seconds": 31}, id="more than 30 clip seconds"),
        pytest.param({**CAPTURE_WIRE, "capture": "f" * 65}, id="reference too long"),
        pytest.param({**CAPTURE_WIRE, "at": "2026-11-27T10:00:00"}, id="naive finding moment"),
        pytest.param({k: v for k, v in CAPTURE_WIRE.items() if k != "camera"}, id="no camera"),
        pytest.param({**CAPTURE_WIRE, "window": ""}, id="empty window"),
    ],
)
def test_central_sends_no_malformed_capture(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CommandPage.model_validate({"commands": [bad], "cursor": 9})


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({**PROMPT, "kind": "snapshot"}, id="unknown kind"),
        pytest.param({k: v for k, v in PROMPT.items() if k != "case_no"}, id="no case"),
        pytest.param({**PROMPT, "window": ""}, id="empty window"),
        pytest.param({**PROMPT, "staff_name": "张" * 61}, id="name longer than the keypad shows"),
        pytest.param({**PROMPT, "expires_at": "2026-11-27T10:03:00"}, id="naive expiry"),
        pytest.param({**PROMPT, "expires_at": "2100-01-01T00:00:00Z"}, id="expiry after 2099"),
        pytest.param({**PROMPT, "id": 0}, id="id zero"),
    ],
)
def test_central_sends_no_malformed_command(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CommandPage.model_validate({"commands": [bad], "cursor": 1})


def test_the_edge_reads_a_newer_centrals_page_and_skips_what_it_does_not_know() -> None:
    page = {
        "commands": [
            {**PROMPT, "id": 1, "colour": "red"},  # a field added later: ignored, still prompted
            {"id": 2, "kind": "snapshot", "camera": "C1"},  # a kind added later: skipped
            {**PROMPT, "id": 3, "case_no": ""},  # a malformed prompt: skipped
            {k: v for k, v in PROMPT.items() if k not in ("staff_name", "staff_no", "text")} | {"id": 4},
        ],
        "cursor": 4,
        "server_time": AT.isoformat(),  # an answer field added later: ignored
    }
    answer = CommandsAnswer.model_validate_json(json.dumps(page))
    assert [type(c) for c in answer.commands] == [PromptCommand, OtherCommand, OtherCommand, PromptCommand]
    assert [(c.id, c.kind) for c in answer.commands] == [
        (1, "prompt"),
        (2, "snapshot"),
        (3, "prompt"),
        (4, "prompt"),
    ]
    last = answer.commands[3]
    assert isinstance(last, PromptCommand) and (last.staff_name, last.text) == (None, "请评价")
    assert answer.cursor == 4


@pytest.mark.parametrize(
    ("spans", "visits", "watched_from", "message"),
    [
        ([{"offset": 10, "seconds": 300}], 2, 0, "spans lists 1 sits, fewer than the 2 visits"),
        ([{"offset": 900, "seconds": 300}, {"offset": 10, "seconds": 300}], 2, 0, "start order"),
        ([{"offset": 10, "seconds": 300}], 1, 600, "before this part of the hour was watched"),
        ([{"offset": 3600, "seconds": 300}], 1, 0, "less than or equal to 3599"),
        ([{"offset": 10, "seconds": 0}], 1, 0, "greater than or equal to 1"),
        ([{"offset": 10, "seconds": 300, "who": "x"}], 1, 0, "Extra inputs"),
    ],
)
def test_visit_spans_must_agree_with_the_count(
    spans: list[dict[str, object]], visits: int, watched_from: int, message: str
) -> None:
    body = {
        "id": "W01:vis:1:0",
        "kind": "visitor_count",
        "window": "W01",
        "camera": "C1",
        "hour_start": HOUR.isoformat(),
        "visits": visits,
        "seated_seconds": 600.0,
        "watched_from_second": watched_from,
        "spans": spans,
    }
    with pytest.raises(ValidationError, match=message):
        VisitorCountIn.model_validate(body)
    VisitorCountIn.model_validate({**body, "spans": None})  # an older agent's count: no spans

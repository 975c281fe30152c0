"""The observation dispatch table the app factory builds: every kind handled, by one handler."""

from __future__ import annotations

import pytest

from central.devices.device_kinds import ALL_KINDS
from central.devices.service import observation_handlers
from central.patrols.viewing import PATROL_HANDLERS
from central.ratings.keypad_observations import KEYPAD_HANDLERS
from central.video.handlers import CAMERA_HANDLERS


def test_keypads_cameras_and_patrols_cover_every_kind_once() -> None:
    table = observation_handlers(KEYPAD_HANDLERS, CAMERA_HANDLERS, PATROL_HANDLERS)
    assert set(table) == ALL_KINDS
    assert table["keypad_press"] is KEYPAD_HANDLERS["keypad_press"]


def test_a_missing_or_doubled_kind_is_refused_when_the_table_is_built() -> None:
    with pytest.raises(ValueError, match="missing"):
        observation_handlers(KEYPAD_HANDLERS)
    with pytest.raises(ValueError, match="two handlers"):
        observation_handlers(KEYPAD_HANDLERS, CAMERA_HANDLERS, {"presence": CAMERA_HANDLERS["presence"]})

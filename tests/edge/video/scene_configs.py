"""Edge config text for the tests that run a generated hall through `hallwatch edge …`."""

from __future__ import annotations

from typing import Any

import yaml

from edge.video.scene import HallScene


def windows_yaml(scene: HallScene, camera: str, *, masks: bool = True, **overrides: Any) -> str:
    """The `windows:` section for the scene's windows on `camera`, regions as the scene lays them out;
    `overrides` (working_hours, absence_threshold_minutes, …) apply to every window."""
    windows = [
        w.model_dump(mode="json", exclude_none=True) for w in scene.window_configs(camera, **overrides)
    ]
    if not masks:
        for window in windows:
            window.pop("privacy_masks", None)
    return yaml.safe_dump({"windows": windows}, sort_keys=False, allow_unicode=True)

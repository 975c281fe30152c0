"""Read an edge config file: every problem reported at once, each with its place and YAML line.

The reading itself (YAML with line numbers, duplicate keys, pydantic errors turned into problems) is
`common.configfile`, shared with the display agent, which reads the same file; this is the edge's
schema table and its cross-section checks.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from common.configfile import (
    ConfigFileError,
    ConfigProblem,
    Schema,
    format_loc,
    in_file_order,
    models_by_type,
    parse_config_yaml,
    place,
    problems_of,
    read_config_text,
)
from common.display_config import BrowserConfig, DisplayConfig, KioskConfig, LedConfig
from edge.config import CentralConfig, EdgeConfig, KeypadConfig, OutboxConfig, verify_sections
from edge.live.config import LiveConfig, LiveProfileConfig
from edge.video.config import (
    DETECTOR_MODELS,
    SOURCE_MODELS,
    AnalysisConfig,
    CameraConfig,
    WindowConfig,
)

__all__ = ["ConfigProblem", "EdgeConfigError", "format_loc", "load_edge_config", "parse_edge_config"]

logger = logging.getLogger(__name__)

SCHEMA = Schema(
    # Which model validates the mapping at a path, for listing the allowed keys of an unknown one.
    models={
        (): EdgeConfig,
        ("central",): CentralConfig,
        ("outbox",): OutboxConfig,
        ("keypads", "*"): KeypadConfig,
        ("cameras", "*"): CameraConfig,
        ("analysis",): AnalysisConfig,
        ("windows", "*"): WindowConfig,
        ("displays", "*"): DisplayConfig,
        ("displays", "*", "led"): LedConfig,
        ("displays", "*", "kiosk"): KioskConfig,
        ("displays", "*", "browser"): BrowserConfig,
        ("live",): LiveConfig,
        ("live", "tile"): LiveProfileConfig,
        ("live", "focus"): LiveProfileConfig,
    },
    tagged={"source": models_by_type(SOURCE_MODELS), "detector": models_by_type(DETECTOR_MODELS)},
)


class EdgeConfigError(ConfigFileError):
    """The config file has problems; `problems` lists every one, in file order."""


def load_edge_config(path: Path) -> EdgeConfig:
    """Read and validate the file at `path`; EdgeConfigError names every problem and its line."""
    return parse_edge_config(read_config_text(path, EdgeConfigError), origin=str(path))


def parse_edge_config(text: str, *, origin: str = "(text)") -> EdgeConfig:
    parsed = parse_config_yaml(text, EdgeConfigError, origin=origin)
    problems = list(parsed.duplicates)
    if parsed.data is None:
        problems.append(ConfigProblem("(file)", None, "the file is empty"))
    else:
        try:
            config = EdgeConfig.model_validate(parsed.data)
        except ValidationError as exc:
            problems.extend(problems_of(exc, parsed.root, SCHEMA))
            problems.extend(p for p in _raw_section_problems(parsed.data, parsed.root) if p not in problems)
        else:
            if not problems:
                return config
    logger.info("edge config %s rejected: %d problem(s)", origin, len(problems))
    raise EdgeConfigError(in_file_order(problems), origin=origin)


def _raw_section_problems(data: Any, root: yaml.Node | None) -> list[ConfigProblem]:
    """Duplicates and unknown cameras, which pydantic skips while anything else in the file is invalid."""
    if not isinstance(data, dict):
        return []
    return [place(f.loc, f.message, root) for f in verify_sections(data)]

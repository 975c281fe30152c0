"""Read an edge config file: every problem reported at once, each with its place and YAML line.

The data comes from `common.yamlio.load_plain_yaml` (safe, timestamps left as text); a second,
cheap parse keeps the node tree for line numbers and finds duplicate keys, which YAML would
otherwise silently collapse to the last one.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from common.yamlio import line_at, load_plain_yaml, node_line
from edge.config import CentralConfig, EdgeConfig, KeypadConfig, OutboxConfig, verify_sections
from edge.config_checks import CHECK_ERROR, CODE_PATTERN, Loc
from edge.live.config import LiveConfig, LiveProfileConfig
from edge.video.config import (
    DETECTOR_MODELS,
    SOURCE_MODELS,
    AnalysisConfig,
    CameraConfig,
    DisplayConfig,
    WindowConfig,
)

logger = logging.getLogger(__name__)

MAX_CONFIG_BYTES = 1024 * 1024
# Which model validates the mapping at a path, for listing the allowed keys of an unknown one.
_MODELS: dict[tuple[str, ...], type[BaseModel]] = {
    (): EdgeConfig,
    ("central",): CentralConfig,
    ("outbox",): OutboxConfig,
    ("keypads", "*"): KeypadConfig,
    ("cameras", "*"): CameraConfig,
    ("analysis",): AnalysisConfig,
    ("windows", "*"): WindowConfig,
    ("displays", "*"): DisplayConfig,
    ("live",): LiveConfig,
    ("live", "tile"): LiveProfileConfig,
    ("live", "focus"): LiveProfileConfig,
}


# Discriminated unions: the field, and its model per `type`.
_TAGGED: dict[str, dict[str, type[BaseModel]]] = {
    "source": {get_args(m.model_fields["type"].annotation)[0]: m for m in SOURCE_MODELS},
    "detector": {get_args(m.model_fields["type"].annotation)[0]: m for m in DETECTOR_MODELS},
}


@dataclass(frozen=True)
class ConfigProblem:
    place: str  # e.g. "keypads[0].window"; "(file)" for the file as a whole
    line: int | None  # 1-based; None when it cannot be told
    message: str

    def __str__(self) -> str:
        return f"{self.place}: {self.message}"


class EdgeConfigError(ValueError):
    """The config file has problems; `problems` lists every one, in file order."""

    def __init__(self, problems: list[ConfigProblem], *, origin: str) -> None:
        self.problems = problems
        self.origin = origin
        lines = [f"{origin}:{p.line}: {p}" if p.line else f"{origin}: {p}" for p in problems]
        super().__init__(f"{origin}: {len(problems)} problem(s)\n" + "\n".join(lines))


def load_edge_config(path: Path) -> EdgeConfig:
    """Read and validate the file at `path`; EdgeConfigError names every problem and its line."""
    origin = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise EdgeConfigError(
            [ConfigProblem("(file)", None, f"cannot read: {exc.strerror}")], origin=origin
        ) from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise EdgeConfigError([ConfigProblem("(file)", None, "larger than 1 MiB")], origin=origin)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problem = ConfigProblem("(file)", None, f"not UTF-8 text (byte {exc.start})")
        raise EdgeConfigError([problem], origin=origin) from exc
    return parse_edge_config(text, origin=origin)


def parse_edge_config(text: str, *, origin: str = "(text)") -> EdgeConfig:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = load_plain_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = "; ".join(part for part in (exc.context, exc.problem) if part)
        problem = ConfigProblem("(file)", mark.line + 1 if mark else None, f"not valid YAML: {detail}")
        raise EdgeConfigError([problem], origin=origin) from exc
    except yaml.YAMLError as exc:
        raise EdgeConfigError(
            [ConfigProblem("(file)", None, f"not valid YAML: {exc}")], origin=origin
        ) from exc
    except RecursionError as exc:
        raise EdgeConfigError([ConfigProblem("(file)", None, "nested too deeply")], origin=origin) from exc
    problems = list(_duplicate_keys(root, (), set()))
    if data is None:
        problems.append(ConfigProblem("(file)", None, "the file is empty"))
    else:
        try:
            config = EdgeConfig.model_validate(data)
        except ValidationError as exc:
            problems.extend(p for error in exc.errors() for p in _problems_of(error, root))
            problems.extend(p for p in _raw_section_problems(data, root) if p not in problems)
        else:
            if not problems:
                return config
    problems.sort(key=lambda p: (p.line is None, p.line or 0))
    logger.info("edge config %s rejected: %d problem(s)", origin, len(problems))
    raise EdgeConfigError(problems, origin=origin)


def _raw_section_problems(data: Any, root: yaml.Node | None) -> list[ConfigProblem]:
    """Duplicates and unknown cameras, which pydantic skips while anything else in the file is invalid."""
    if not isinstance(data, dict):
        return []
    return [_place(f.loc, f.message, root) for f in verify_sections(data)]


def format_loc(loc: Sequence[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"


def _untagged(loc: Loc) -> Loc:
    """pydantic puts a discriminated union's tag in the loc (source.file.path); the file has none."""
    return tuple(
        part
        for index, part in enumerate(loc)
        if not (index and loc[index - 1] in _TAGGED and part in _TAGGED[str(loc[index - 1])])
    )


def _problems_of(error: Any, root: yaml.Node | None) -> Iterator[ConfigProblem]:
    tagged_loc: Loc = tuple(error["loc"])
    loc = _untagged(tagged_loc)
    kind, message = error["type"], error["msg"]
    if kind == CHECK_ERROR:
        for relative, text in error["ctx"]["findings"]:
            yield _place((*loc, *relative), text, root)
        return
    if kind == "extra_forbidden":
        message = _unknown_key_message(tagged_loc)
    elif kind == "missing":
        message = f"missing required key {loc[-1]!r}"
    elif kind == "model_type":
        message = "expected a mapping (key: value)"
    elif kind == "list_type":
        message = "expected a list (- entries)"
    elif kind == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") == CODE_PATTERN:
        message = f"{error['input']!r} is not a code: letters, digits, '_', '.', '-' only, no spaces"
    elif kind in {"less_than_equal", "greater_than_equal"} and any(
        str(part).endswith(("_region", "_masks")) for part in loc
    ):
        message = f"{message} (points are relative: x and y from 0 to 1)"
    elif kind == "union_tag_invalid":
        message = f"type must be one of {error['ctx']['expected_tags']}, got {error['ctx']['tag']!r}"
    elif kind == "string_type" and isinstance(error["input"], int | float):
        message = f'expected text, got the number {error["input"]}; quote it: "{error["input"]}"'
    yield _place(loc, message, root)


def _unknown_key_message(loc: Loc) -> str:
    key = str(loc[-1])
    shape = tuple("*" if isinstance(part, int) else part for part in loc[:-1])
    model = _MODELS.get(shape)
    if model is None and len(shape) >= 2 and shape[-2] in _TAGGED:
        model = _TAGGED[str(shape[-2])].get(str(shape[-1]))
    if model is None:
        return f"unknown key {key!r}"
    allowed = sorted(model.model_fields)
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key {key!r}; {hint}allowed: {', '.join(allowed)}"


def _place(loc: Loc, message: str, root: yaml.Node | None) -> ConfigProblem:
    return ConfigProblem(format_loc(loc), line_at(root, loc), message)


def _duplicate_keys(node: yaml.Node | None, loc: Loc, seen_nodes: set[int]) -> Iterator[ConfigProblem]:
    """Each node once: aliases (*name) neither repeat findings nor blow the walk up."""
    if node is None or id(node) in seen_nodes:
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                yield ConfigProblem(format_loc((*loc, name)), node_line(key), f"key {name!r} appears twice")
            seen.add(name)
            yield from _duplicate_keys(value, (*loc, name), seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*loc, index), seen_nodes)

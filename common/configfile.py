"""Read a hall's config file (camera_configs/*.yaml): every problem reported at once, each with its
place and YAML line. The edge agent (edge.configfile) and the display agent (hall_display.config)
read the same file with their own models; this is what both readers share.

The data comes from `common.yamlio.load_plain_yaml` (safe, timestamps left as text); a second,
cheap parse keeps the node tree for line numbers and finds duplicate keys, which YAML would
otherwise silently collapse to the last one.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from common.config_fields import CODE_PATTERN
from common.findings import CHECK_ERROR, Loc
from common.yamlio import line_at, load_plain_yaml, node_line

logger = logging.getLogger(__name__)

MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ConfigProblem:
    place: str  # e.g. "keypads[0].window"; "(file)" for the file as a whole
    line: int | None  # 1-based; None when it cannot be told
    message: str

    def __str__(self) -> str:
        return f"{self.place}: {self.message}"


class ConfigFileError(ValueError):
    """The config file has problems; `problems` lists every one, in file order."""

    def __init__(self, problems: list[ConfigProblem], *, origin: str) -> None:
        self.problems = problems
        self.origin = origin
        lines = [f"{origin}:{p.line}: {p}" if p.line else f"{origin}: {p}" for p in problems]
        super().__init__(f"{origin}: {len(problems)} problem(s)\n" + "\n".join(lines))


@dataclass(frozen=True)
class Schema:
    """Which model validates the mapping at a path (`"*"` for any list index), for listing the allowed
    keys of an unknown one; and the discriminated unions: the field, and its model per `type`."""

    models: Mapping[tuple[str, ...], type[BaseModel]]
    tagged: Mapping[str, Mapping[str, type[BaseModel]]] = field(default_factory=dict)


def models_by_type(models: Sequence[type[BaseModel]]) -> dict[str, type[BaseModel]]:
    """A discriminated union's models keyed by their `type` literal."""
    return {get_args(m.model_fields["type"].annotation)[0]: m for m in models}


@dataclass(frozen=True)
class ParsedFile:
    root: yaml.Node | None  # the node tree, for line numbers
    data: Any  # the plain data (None for an empty file)
    duplicates: list[ConfigProblem]


def read_config_text(path: Path, error: type[ConfigFileError]) -> str:
    """The file's text; `error` names what is wrong with the file as a whole."""
    origin = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error([ConfigProblem("(file)", None, f"cannot read: {exc.strerror}")], origin=origin) from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise error([ConfigProblem("(file)", None, "larger than 1 MiB")], origin=origin)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problem = ConfigProblem("(file)", None, f"not UTF-8 text (byte {exc.start})")
        raise error([problem], origin=origin) from exc


def parse_config_yaml(text: str, error: type[ConfigFileError], *, origin: str) -> ParsedFile:
    """The YAML's data and node tree, and every duplicate key; `error` for text that is not YAML."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = load_plain_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = "; ".join(part for part in (exc.context, exc.problem) if part)
        problem = ConfigProblem("(file)", mark.line + 1 if mark else None, f"not valid YAML: {detail}")
        raise error([problem], origin=origin) from exc
    except yaml.YAMLError as exc:
        raise error([ConfigProblem("(file)", None, f"not valid YAML: {exc}")], origin=origin) from exc
    except RecursionError as exc:
        raise error([ConfigProblem("(file)", None, "nested too deeply")], origin=origin) from exc
    return ParsedFile(root, data, list(duplicate_keys(root, (), set())))


def problems_of(
    exc: ValidationError, root: yaml.Node | None, schema: Schema, *, prefix: Loc = ()
) -> list[ConfigProblem]:
    """One problem per pydantic error (and per finding of a `verify_*` check), at its place in the
    file; `prefix` is where the validated mapping sits in the file (e.g. ("displays", 2))."""
    return [p for error in exc.errors() for p in _problems_of(error, root, schema, prefix)]


def in_file_order(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))


def format_loc(loc: Sequence[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"


def place(loc: Loc, message: str, root: yaml.Node | None) -> ConfigProblem:
    return ConfigProblem(format_loc(loc), line_at(root, loc), message)


def _untagged(loc: Loc, schema: Schema) -> Loc:
    """pydantic puts a discriminated union's tag in the loc (source.file.path); the file has none."""
    tagged = schema.tagged
    return tuple(
        part
        for index, part in enumerate(loc)
        if not (index and loc[index - 1] in tagged and part in tagged[str(loc[index - 1])])
    )


def _problems_of(error: Any, root: yaml.Node | None, schema: Schema, prefix: Loc) -> Iterator[ConfigProblem]:
    tagged_loc: Loc = (*prefix, *error["loc"])
    loc = _untagged(tagged_loc, schema)
    kind, message = error["type"], error["msg"]
    if kind == CHECK_ERROR:
        for relative, text in error["ctx"]["findings"]:
            yield place((*loc, *relative), text, root)
        return
    if kind == "extra_forbidden":
        message = _unknown_key_message(tagged_loc, schema)
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
    yield place(loc, message, root)


def _unknown_key_message(loc: Loc, schema: Schema) -> str:
    key = str(loc[-1])
    shape = tuple("*" if isinstance(part, int) else part for part in loc[:-1])
    model = schema.models.get(shape)
    if model is None and len(shape) >= 2 and shape[-2] in schema.tagged:
        model = schema.tagged[str(shape[-2])].get(str(shape[-1]))
    if model is None:
        return f"unknown key {key!r}"
    allowed = sorted(model.model_fields)
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key {key!r}; {hint}allowed: {', '.join(allowed)}"


def duplicate_keys(node: yaml.Node | None, loc: Loc, seen_nodes: set[int]) -> Iterator[ConfigProblem]:
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
            yield from duplicate_keys(value, (*loc, name), seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from duplicate_keys(item, (*loc, index), seen_nodes)

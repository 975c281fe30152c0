"""The display agent's settings, read from the hall's config file (camera_configs/<hall>.yaml).

The agent reads three things of that file: `hall`, `central.url` (the edge's central section; the
rest of it is the edge's) and its own entry of `displays:`, chosen by name. The entry is validated
with the schema the edge agent validates it with (common.display_config); every problem is reported
with its place and YAML line, as the edge's reader does (common.configfile).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, ValidationError

from common.config_fields import Code40
from common.configfile import (
    ConfigFileError,
    ConfigProblem,
    ParsedFile,
    Schema,
    in_file_order,
    parse_config_yaml,
    place,
    problems_of,
    read_config_text,
)
from common.display_config import BrowserConfig, DisplayConfig, KioskConfig, LedConfig

logger = logging.getLogger(__name__)

PAGE_OF_KIND = {"led": "/marquee", "tv": "/board", "kiosk": "/kiosk"}
SCHEMA = Schema(
    models={
        ("displays", "*"): DisplayConfig,
        ("displays", "*", "led"): LedConfig,
        ("displays", "*", "kiosk"): KioskConfig,
        ("displays", "*", "browser"): BrowserConfig,
    }
)


class DisplayConfigError(ConfigFileError):
    """The config file has problems for the display agent; `problems` lists every one, in file order."""


class _CentralPart(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)  # the rest of `central` is the edge's
    url: AnyHttpUrl = Field(..., description="Base URL of central")


class _HallPart(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)  # cameras, keypads …: the edge's
    hall: Code40
    central: _CentralPart


@dataclass(frozen=True)
class DisplaySettings:
    """What one display agent runs with."""

    hall: str
    central_url: str  # without a trailing slash
    display: DisplayConfig

    @property
    def page_path(self) -> str:
        return PAGE_OF_KIND[self.display.kind]

    @property
    def local_url(self) -> str:
        """This agent's own page for its kind (IPv6 hosts in brackets)."""
        host = self.display.listen_host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.display.listen_port}{self.page_path}"

    @property
    def browser_url(self) -> str:
        return self.display.url or self.local_url


def load_display_config(path: Path, display: str | None = None) -> DisplaySettings:
    """The settings of display `display` (optional when the file has exactly one)."""
    return parse_display_config(read_config_text(path, DisplayConfigError), display, origin=str(path))


def parse_display_config(text: str, display: str | None = None, *, origin: str = "(text)") -> DisplaySettings:
    parsed, hall, problems = _read(text, origin)
    entries = list(_entries(parsed))
    index, problem = _choose(parsed, entries, display)
    chosen: DisplayConfig | None = None
    if problem is not None:
        problems.append(problem)
    else:
        chosen, entry_problems = _validate_entry(parsed, index, entries[index])
        problems.extend(entry_problems)
    if problems or hall is None or chosen is None:
        _reject(problems, origin)
    return DisplaySettings(hall.hall, str(hall.central.url).rstrip("/"), chosen)


def parse_all_displays(text: str, *, origin: str = "(text)") -> list[DisplaySettings]:
    """Every display of the file, each validated (for `hallwatch display validate`)."""
    parsed, hall, problems = _read(text, origin)
    entries = list(_entries(parsed))
    if not entries:
        problems.append(place(("displays",), "no displays in this file", parsed.root))
    names = [_name(entry) for entry in entries]
    valid: list[DisplayConfig] = []
    for index, entry in enumerate(entries):
        if names[index] is not None and names[index] in names[:index]:
            message = f"name {names[index]!r} is already used by displays[{names.index(names[index])}]"
            problems.append(place(("displays", index, "name"), message, parsed.root))
        config, entry_problems = _validate_entry(parsed, index, entry)
        problems.extend(entry_problems)
        valid.extend([config] if config is not None else [])
    if problems or hall is None:
        _reject(problems, origin)
    url = str(hall.central.url).rstrip("/")
    return [DisplaySettings(hall.hall, url, config) for config in valid]


def _read(text: str, origin: str) -> tuple[ParsedFile, _HallPart | None, list[ConfigProblem]]:
    parsed = parse_config_yaml(text, DisplayConfigError, origin=origin)
    problems = [p for p in parsed.duplicates if _is_ours(p.place)]
    if not isinstance(parsed.data, dict):
        what = "the file is empty" if parsed.data is None else "expected a mapping (key: value)"
        raise DisplayConfigError([*problems, ConfigProblem("(file)", None, what)], origin=origin)
    try:
        return parsed, _HallPart.model_validate(parsed.data), problems
    except ValidationError as exc:
        return parsed, None, [*problems, *problems_of(exc, parsed.root, SCHEMA)]


def _is_ours(place_text: str) -> bool:
    """Duplicate keys in the edge's sections are the edge's to report."""
    return place_text in ("hall", "central", "central.url", "displays") or place_text.startswith("displays[")


def _entries(parsed: ParsedFile) -> Iterator[Any]:
    entries = parsed.data.get("displays") if isinstance(parsed.data, dict) else None
    yield from entries if isinstance(entries, list) else ()


def _name(entry: Any) -> str | None:
    name = entry.get("name") if isinstance(entry, dict) else None
    return name.strip() if isinstance(name, str) else None


def _choose(parsed: ParsedFile, entries: list[Any], display: str | None) -> tuple[int, ConfigProblem | None]:
    names = [_name(entry) for entry in entries]
    known = ", ".join(n for n in names if n) or "none"
    if not entries:
        return -1, place(("displays",), "no displays in this file", parsed.root)
    if display is None:
        if len(entries) == 1:
            return 0, None
        message = f"{len(entries)} displays ({known}): choose one with --display"
        return -1, place(("displays",), message, parsed.root)
    if display not in names:
        return -1, place(("displays",), f"no display named {display!r} (known: {known})", parsed.root)
    return names.index(display), None


def _validate_entry(
    parsed: ParsedFile, index: int, entry: Any
) -> tuple[DisplayConfig | None, list[ConfigProblem]]:
    try:
        return DisplayConfig.model_validate(entry), []
    except ValidationError as exc:
        return None, problems_of(exc, parsed.root, SCHEMA, prefix=("displays", index))


def _reject(problems: list[ConfigProblem], origin: str) -> NoReturn:
    logger.info("display config %s rejected: %d problem(s)", origin, len(problems))
    raise DisplayConfigError(in_file_order(problems), origin=origin)


class DisplayKeyError(RuntimeError):
    """No usable device key: the message says where it was looked for."""


def resolve_key(display: DisplayConfig) -> str:
    """The display's device key from `key_file` if given, else from the environment variable `key_env`."""
    if display.key_file is not None:
        try:
            key = display.key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise DisplayKeyError(
                f"cannot read the device key file {display.key_file}: {exc.strerror}"
            ) from exc
        where = f"the file {display.key_file}"
    else:
        key = os.environ.get(display.key_env, "").strip()
        where = f"the environment variable {display.key_env}"
    if not key:
        raise DisplayKeyError(
            f"no device key in {where}; issue one for display {display.name} under 设备密钥 (device keys)"
        )
    if not key.isascii() or any(c.isspace() for c in key):
        raise DisplayKeyError(f"the device key in {where} has spaces or non-ASCII characters")
    return key

"""Import a registry file (YAML or JSON): check everything, then write all of it or nothing.

Steps: parse (keeping the YAML node tree for line numbers), validate against the document models,
check duplicates and references (against the file and the database), then upsert in one
transaction. Every problem of a step is collected before failing, each with its place in the file.
"""

from __future__ import annotations

import difflib
import logging
import types
import typing
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.audit.chain import record
from central.core.actor import SYSTEM, Actor
from central.core.clock import system_clock
from central.registry.document import REGISTRY_CHECK_ERROR, RegistryDocument
from central.registry.jurisdiction import Jurisdiction
from central.registry.references import check_references, find_duplicates, format_loc, load_known
from central.registry.scope import out_of_scope
from central.registry.upsert import KindCounts, write_document
from common.findings import Loc
from common.yamlio import line_at, node_line

logger = logging.getLogger(__name__)

__all__ = [
    "ImportReport",
    "KindCounts",
    "Problem",
    "RegistryConflictError",
    "RegistryImportError",
    "import_registry_text",
]


@dataclass(frozen=True)
class Problem:
    place: str  # e.g. "halls[0].region"; "(file)" for the file as a whole
    line: int | None  # 1-based line in the file; None when it cannot be told
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RegistryImportError(ValueError):
    """The file has problems; nothing was written."""

    def __init__(self, problems: list[Problem], *, origin: str = "") -> None:
        self.problems = problems
        self.origin = origin
        super().__init__(f"{origin or 'registry file'}: {len(problems)} problem(s); nothing was written")


class _Rejected(Exception):
    """Internal: a step found problems (the caller adds the origin)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.problems = problems


class RegistryConflictError(RuntimeError):
    """Another writer stored the same codes meanwhile; nothing was written, importing again works."""


class ImportReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    origin: str
    regions: KindCounts
    halls: KindCounts
    departments: KindCounts
    windows: KindCounts
    staff: KindCounts
    devices: KindCounts
    items: KindCounts

    def kinds(self) -> dict[str, KindCounts]:
        return {name: getattr(self, name) for name in KINDS}

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated for c in self.kinds().values())


KINDS = ("regions", "halls", "departments", "windows", "staff", "devices", "items")


def import_registry_text(
    session: Session,
    *,
    text: str,
    origin: str,
    actor: Actor = SYSTEM,
    now: datetime | None = None,
    within: Jurisdiction | None = None,
    wide: bool = True,
) -> ImportReport:
    """Check the whole file, then create or update its records in one transaction.

    Commits on success, with one audit entry (the counts) in the same transaction. On any problem
    the session is rolled back (so pass a session without pending work of its own) and
    RegistryImportError lists every problem found by the failing step. The API, the CLI and the
    demo pass who imports and when; the defaults only keep older callers working. `within`: the
    importer's jurisdiction (the API's caller; None for the operator's CLI), whose out-of-scope
    entries are problems like any other; `wide`: it is deployment-wide (may choose rule profiles).
    """
    try:
        data, root = _parse(text)
        document = _validate(data, root)
    except _Rejected as rejected:
        logger.info("registry import from %s rejected: %d problem(s)", origin, len(rejected.problems))
        raise RegistryImportError(rejected.problems, origin=origin) from None
    try:
        known = load_known(session, document)
        findings = [*find_duplicates(document), *check_references(document, known)]
        if within is not None:
            findings += out_of_scope(session, document, within=within, wide=wide)
        if findings:
            logger.info("registry import from %s rejected: %d reference problem(s)", origin, len(findings))
            problems = _sorted(_place(f.loc, f.message, root) for f in findings)
            raise RegistryImportError(problems, origin=origin)
        counts = write_document(session, document, known)
        report = ImportReport(origin=origin, **counts)
        record(
            session,
            actor=actor,
            action="registry.imported",
            target_type="registry",
            target_id=origin[:200],
            after=report,
            at=now or system_clock(),
        )
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        logger.warning("registry import from %s collided with another writer: %s", origin, exc.orig)
        raise RegistryConflictError(
            "another import stored some of these records at the same time; nothing was written, import again"
        ) from exc
    except BaseException:
        session.rollback()
        raise
    logger.info(
        "registry import from %s: %s",
        origin,
        ", ".join(f"{k} +{c.created} ~{c.updated} ={c.unchanged}" for k, c in report.kinds().items()),
    )
    return report


# --- parsing ------------------------------------------------------------------------------


# libyaml's parser is ~20× faster than the pure-Python one: a province's registry is megabytes.
_SafeLoader: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _RegistryLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """A safe loader without implicit timestamps: a date-like name stays text for the schema to judge."""


_RegistryLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
}


def _parse(text: str) -> tuple[Any, yaml.Node | None]:
    loader = _RegistryLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise _Rejected([Problem("(file)", None, "the file is empty")])
        shape = list(_check_nodes(root))
        if shape:
            raise _Rejected(_sorted(shape))
        return loader.construct_document(root), root
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = "; ".join(part for part in (exc.context, exc.problem) if part)
        line = mark.line + 1 if mark else None
        raise _Rejected([Problem("(file)", line, f"not valid YAML: {detail}")]) from exc
    except yaml.YAMLError as exc:
        raise _Rejected([Problem("(file)", None, f"not valid YAML: {exc}")]) from exc
    finally:
        loader.dispose()


def _children(node: yaml.Node) -> list[tuple[yaml.Node, str | int]]:
    if isinstance(node, yaml.MappingNode):
        return [(value, str(key.value)) for key, value in node.value]
    if isinstance(node, yaml.SequenceNode):
        return list(zip(node.value, range(len(node.value)), strict=True))
    return []


def _written_size(root: yaml.Node) -> int:
    """Entries as written (each shared node once)."""
    seen: set[int] = set()
    size = 0
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.CollectionNode) and id(node) not in seen:
            seen.add(id(node))
            size += 1 + len(node.value)
            stack.extend(child for child, _ in _children(node))
    return size


# Root → regions → [0] → children → [0] → children → [0] → level is 8; leave room, refuse cycles.
MAX_DEPTH = 24
# A path built only when a problem needs it: (last part, parent path), None at the root.
_Path = tuple[str | int, "_Path"] | None


def _loc(path: _Path) -> Loc:
    parts: list[str | int] = []
    while path is not None:
        part, path = path
        parts.append(part)
    return tuple(reversed(parts))


def _check_nodes(root: yaml.Node) -> Iterator[Problem]:
    """Duplicate keys (YAML silently keeps the last one), and aliases that blow the file up.

    Aliases (*name) may share a list, but validation walks every copy: a few nested aliases
    expand exponentially ("billion laughs"), so the expanded size is bounded by the written one.
    """
    budget = 2 * _written_size(root) + 10_000
    checked: set[int] = set()
    stack: list[tuple[yaml.Node, _Path, int]] = [(root, None, 0)]
    while stack:
        node, path, depth = stack.pop()
        children = _children(node)
        budget -= 1 + len(children)
        if budget < 0:
            yield Problem(
                format_loc(_loc(path)), node_line(node), "aliases (*name) expand this file too much"
            )
            return
        if depth > MAX_DEPTH:  # deeper than any registry file; also stops an alias cycle
            yield Problem(format_loc(_loc(path)), node_line(node), "nested too deeply (an alias to itself?)")
            return
        if isinstance(node, yaml.MappingNode) and id(node) not in checked:
            checked.add(id(node))
            keys: set[str] = set()
            for key, _value in node.value:
                name = str(key.value)
                if name in keys:
                    yield Problem(
                        format_loc((*_loc(path), name)), node_line(key), f"key {name!r} appears twice"
                    )
                keys.add(name)
        stack.extend(
            (child, (part, path), depth + 1)
            for child, part in children
            if isinstance(child, yaml.CollectionNode)  # scalars have nothing inside to check
        )


def _place(loc: Loc, message: str, root: yaml.Node | None) -> Problem:
    return Problem(format_loc(loc), line_at(root, loc), message)


def _sorted(problems: Iterator[Problem] | list[Problem]) -> list[Problem]:
    """In file order; problems without a line last."""
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))


# --- validation ------------------------------------------------------------------------------


def _validate(data: Any, root: yaml.Node | None) -> RegistryDocument:
    try:
        return RegistryDocument.model_validate(data)
    except ValidationError as exc:
        problems: list[Problem] = []
        for error in exc.errors():
            problems.extend(_problems_of(error, root))
        raise _Rejected(_sorted(problems)) from exc


def _problems_of(error: Any, root: yaml.Node | None) -> Iterator[Problem]:
    loc: Loc = tuple(error["loc"])
    kind, message = error["type"], error["msg"]
    if kind == REGISTRY_CHECK_ERROR:
        for relative, text in error["ctx"]["findings"]:
            yield _place((*loc, *relative), text, root)
        return
    if loc and loc[-1] == "[key]":  # a mapping key was wrong, e.g. an unknown stage name
        loc = loc[:-1]
        message = f"key {error['input']!r}: {message}"
    elif kind == "extra_forbidden":
        message = _unknown_key_message(loc)
    elif kind == "model_type":
        message = (
            "expected a mapping (key: value)"
            if loc
            else f"expected a mapping of sections: {', '.join(KINDS)}"
        )
    elif kind == "list_type":
        message = "expected a list (- entries, or [ … ])"
    elif kind == "missing":
        message = f"missing required key {loc[-1]!r}"
    elif kind == "string_type" and isinstance(error["input"], int | float):
        message = f'expected text, got the number {error["input"]}; quote it: "{error["input"]}"'
    yield _place(loc, message, root)


def _unknown_key_message(loc: Loc) -> str:
    key = str(loc[-1])
    model = _model_at(loc[:-1])
    if model is None:
        return f"unknown key {key!r}"
    allowed = sorted(model.model_fields)
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key {key!r}; {hint}allowed: {', '.join(allowed)}"


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The document model that validates the mapping at `loc` (for listing its allowed keys)."""
    annotation: Any = RegistryDocument
    for part in loc:
        annotation = _unwrap_optional(annotation)
        if isinstance(part, int):
            if typing.get_origin(annotation) is not list:
                return None
            annotation = typing.get_args(annotation)[0]
        elif (
            isinstance(annotation, type)
            and issubclass(annotation, BaseModel)
            and part in annotation.model_fields
        ):
            annotation = annotation.model_fields[part].annotation
        else:
            return None
    annotation = _unwrap_optional(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _unwrap_optional(annotation: Any) -> Any:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return members[0] if len(members) == 1 else annotation
    return annotation

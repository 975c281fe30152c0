"""YAML reading for administrator files: safe, and dates left as text for pydantic to validate.

PyYAML's own timestamp constructor raises a bare ValueError on "2027-13-01"; keeping scalars as
strings lets the schema report the bad date with its field name instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml


class _PlainLoader(yaml.SafeLoader):
    pass


_PlainLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_plain_yaml(text: str) -> Any:
    """Parse YAML safely, keeping timestamps as strings. Raises yaml.YAMLError on bad syntax."""
    return yaml.load(text, Loader=_PlainLoader)  # a SafeLoader subclass: builds no objects


def node_line(node: yaml.Node) -> int:
    """1-based line where a YAML node starts."""
    return int(node.start_mark.line) + 1


def line_at(root: yaml.Node | None, loc: Sequence[str | int]) -> int | None:
    """Line of the deepest node on `loc` (a pydantic error location); a key's own line when the path
    ends on a key."""
    if root is None:
        return None
    node = root
    for depth, part in enumerate(loc, start=1):
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if str(k.value) == str(part)), None)
            if match is None:
                break
            if depth == len(loc):
                return node_line(match[0])
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            break
    return node_line(node)

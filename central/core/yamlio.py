"""YAML reading for administrator files: safe, and dates left as text for pydantic to validate.

PyYAML's own timestamp constructor raises a bare ValueError on "2027-13-01"; keeping scalars as
strings lets the schema report the bad date with its field name instead.
"""

from __future__ import annotations

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

"""The real Sichuan region tree (data/sichuan-regions.yaml: 1 province, 21 cities, 183 counties) as the
plan sees it, every region with a service centre of its own (the registry holds no halls for it)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from central.patrols.plan import RegionNode

SICHUAN = Path(__file__).parents[3] / "data" / "sichuan-regions.yaml"


@cache
def sichuan_tree() -> dict[str, RegionNode]:
    tree: dict[str, RegionNode] = {}

    def walk(entry: dict[str, Any], parent: str | None) -> None:
        code = str(entry["code"])
        tree[code] = RegionNode(code, entry["name"], entry["level"], parent, f"{code}-ZWFW")
        for child in entry.get("children", []):
            walk(child, code)

    for root in yaml.safe_load(SICHUAN.read_text(encoding="utf-8"))["regions"]:
        walk(root, None)
    return tree

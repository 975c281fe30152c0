"""`hallwatch profiles …`: the rule profiles that ship."""

from __future__ import annotations

import typer
from rich.table import Table

from central.cli.common import console
from central.core.config import Settings
from common.profiles import RuleProfile, shipped_profiles

app = typer.Typer(help="Rule profiles.", no_args_is_help=True)


@app.command("list")
def profiles_list() -> None:
    """List shipped rule profiles and the deployment default."""
    default = Settings().rule_profile
    table = Table("key", "version", "name", "due basis", "yellow ≤", "green warning", "scoring")
    for p in shipped_profiles().values():
        table.add_row(
            p.key + (" (default)" if p.key == default else ""),
            str(p.version),
            p.name,
            p.lights.due_basis,
            str(p.lights.yellow_remaining_workdays),
            "yes" if p.lights.green_warning_on_due_date else "no",
            _scoring(p),
        )
    console.print(table)


def _scoring(profile: RuleProfile) -> str:
    scheme = profile.scoring
    if not scheme.scores:
        return "none"
    return f"{scheme.total:g} points, {len(scheme.dimensions)} dimensions, {len(scheme.rules)} rules"

"""The scoring schemes name central's own codes: common never imports central, so these tests check
that the signal reasons and patrol finding categories a shipped scheme names exist there, with a
colour that can match; and the profile API serves the scheme."""

from __future__ import annotations

from typing import get_args

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from central.cli.common import console as cli_console
from central.cli.main import app
from central.patrols.findings_kinds import FindingCategory
from central.signals.reasons import REASONS, Color
from common.profiles import RuleProfile, shipped_profiles
from common.profiles.scoring import PatrolFindingCategory, PerRecordRule, RunRule, ScoreSource

SCORED = [p for p in shipped_profiles().values() if p.scoring.scores]


def test_the_patrol_finding_categories_agree_with_central() -> None:
    assert set(get_args(PatrolFindingCategory)) == set(get_args(FindingCategory))


@pytest.mark.parametrize("profile", SCORED, ids=lambda p: p.key)
def test_every_reason_a_scheme_names_exists_and_can_match(profile: RuleProfile) -> None:
    for rule in profile.scoring.rules:
        if not isinstance(rule, PerRecordRule | RunRule):
            continue
        for code in rule.reasons:
            assert code in REASONS, f"{profile.key} {rule.code}: no signal reason {code!r}"
            colour = REASONS[code].color
            if rule.source == ScoreSource.YELLOW_SIGNAL:
                assert colour == Color.YELLOW, f"{profile.key} {rule.code}: {code} is never yellow"
            if rule.source == ScoreSource.RED_SIGNAL:  # a yellow one may turn red
                assert colour in {Color.YELLOW, Color.RED}, (
                    f"{profile.key} {rule.code}: {code} never turns red"
                )


@pytest.mark.parametrize("profile", SCORED, ids=lambda p: p.key)
def test_no_signal_is_counted_by_two_rules_of_one_colour(profile: RuleProfile) -> None:
    """Each reason goes to one dimension per colour: a yellow light is not also a procedure yellow."""
    for source in (ScoreSource.YELLOW_SIGNAL, ScoreSource.RED_SIGNAL):
        named = [
            code
            for rule in profile.scoring.rules
            if isinstance(rule, PerRecordRule) and rule.source == source
            for code in rule.reasons
        ]
        assert len(named) == len(set(named)), f"{profile.key} {source}: a reason is counted twice"


def test_the_profile_api_serves_the_scheme(client: TestClient) -> None:
    answer = client.get("/api/v1/profiles/sichuan-2011")
    assert answer.status_code == 200
    scoring = answer.json()["scoring"]
    assert scoring["total"] == 100 and len(scoring["dimensions"]) == 9
    kinds = {rule["type"] for rule in scoring["rules"]}
    assert kinds == {"per_record", "per_share", "run", "satisfaction"}
    empty = client.get("/api/v1/profiles/qitaihe-2008").json()["scoring"]
    assert empty == {"total": 100, "dimensions": [], "rules": []}


def test_the_profiles_listing_tells_which_profiles_score(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI's console took its width when first imported (another test's terminal, under xdist):
    # wide enough here that no cell wraps.
    monkeypatch.setattr(cli_console, "width", 240)
    result = CliRunner().invoke(app, ["profiles", "list"], env={"COLUMNS": "240"})
    assert result.exit_code == 0, result.output
    lines = {line.split()[1]: line for line in result.output.splitlines() if line.startswith("│")}
    assert "100 points, 9 dimensions" in lines["sichuan-2011"]
    assert "100 points, 8 dimensions" in lines["shenzhen-2007"]
    assert "none" in lines["qitaihe-2008"]

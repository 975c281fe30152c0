"""`hallwatch edge run` refuses clearly without a key; `hallwatch edge outbox` shows and requeues."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from edge.cli import app as edge_app
from edge.outbox import Outbox
from tests.edge.test_agent import config_text
from tests.edge.test_outbox import press


def test_run_without_a_key_says_where_it_looked(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("HALLWATCH_EDGE_KEY", raising=False)
    config = tmp_path / "hall.yaml"
    config.write_text(config_text(tmp_path, 9), encoding="utf-8")
    result = CliRunner().invoke(edge_app, ["run", str(config)])
    assert result.exit_code == 2
    assert "no device key in the environment variable HALLWATCH_EDGE_KEY" in result.output


def test_outbox_lists_rejected_rows_and_requeues_them(tmp_path: Path) -> None:
    config = tmp_path / "hall.yaml"
    config.write_text(config_text(tmp_path, 9), encoding="utf-8")
    box = Outbox(tmp_path / "outbox.db")
    box.put_many([press(1), press(2)])
    box.mark_rejected(str(press(2)["id"]), "no window W01 in hall 510000-ZWFW")
    box.close()
    result = CliRunner().invoke(edge_app, ["outbox", str(config)])
    assert result.exit_code == 0, result.output
    assert "pending 1" in result.output and "rejected 1" in result.output
    assert "no window W01" in result.output
    assert "MB free (reserve 256 MB)" in result.output, "the disk's free space against the reserve"
    assert "no spare file" in result.output, "no agent made one here"
    result = CliRunner().invoke(edge_app, ["outbox", str(config), "--requeue"])
    assert "requeued 1" in result.output and "pending 2" in result.output

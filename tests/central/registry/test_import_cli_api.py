"""`hallwatch registry import` and POST /api/v1/registry/import."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from central.access.registry_router import MAX_IMPORT_BYTES
from central.cli.main import app
from central.core.config import Settings
from tests.central.registry.helpers import EXAMPLE, row_counts

URL = "/api/v1/registry/import"
BAD = EXAMPLE.replace(
    'halls:       [{code: "510000-ZWFW", name: 四川省政务服务中心, region: "510000"}]',
    "halls: [{code: H, name: x, regoin: '510000'}]",
)


def _cli(settings: Settings, file: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, ["registry", "import", str(file)], env={"HALLWATCH_DATABASE_URL": settings.database_url}
    )
    return result.exit_code, result.stdout, result.stderr


def test_cli_refuses_a_bad_file_with_exit_2(session: Session, settings: Settings, tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(BAD, encoding="utf-8")

    code, _out, err = _cli(settings, file)

    assert code == 2
    assert f"{file}:4: halls[0].region: missing required key 'region'" in err
    assert f"{file}:4: halls[0].regoin: unknown key 'regoin'; did you mean 'region'?" in err
    assert "未写入任何数据" in err
    assert set(row_counts(session).values()) == {0}


def test_cli_imports_a_good_file(session: Session, settings: Settings, tmp_path: Path) -> None:
    file = tmp_path / "good.yaml"
    file.write_text(EXAMPLE, encoding="utf-8")

    code, out, _err = _cli(settings, file)
    assert code == 0
    assert "登记数据已导入" in out
    assert row_counts(session) == {
        "regions": 3,
        "halls": 1,
        "departments": 1,
        "windows": 1,
        "staff": 1,
        "devices": 0,
        "items": 1,
    }

    code, out, _err = _cli(settings, file)
    assert code == 0
    assert "无变化" in out


def test_api_imports_yaml_and_json(client: TestClient, session: Session) -> None:
    response = client.post(URL, content=EXAMPLE.encode(), headers={"content-type": "application/yaml"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["regions"] == {"created": 3, "updated": 0, "unchanged": 0}
    assert body["items"]["created"] == 1

    as_json = json.dumps(yaml.safe_load(EXAMPLE), ensure_ascii=False)
    response = client.post(
        URL, content=as_json.encode(), headers={"content-type": "application/json; charset=utf-8"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["halls"] == {"created": 0, "updated": 0, "unchanged": 1}

    regions = {r["code"]: r["parent_code"] for r in client.get("/api/v1/regions").json()}
    assert regions == {"510000": None, "510100": "510000", "510104": "510100"}


def test_api_lists_every_problem_with_422(client: TestClient, session: Session) -> None:
    response = client.post(URL, content=BAD.encode(), headers={"content-type": "text/yaml"})

    assert response.status_code == 422
    body = response.json()
    assert "nothing was written" in body["detail"]
    assert [(p["place"], p["line"]) for p in body["problems"]] == [
        ("halls[0].region", 4),
        ("halls[0].regoin", 4),
    ]
    assert set(row_counts(session).values()) == {0}

    response = client.post(URL, content=b"regions: [", headers={"content-type": "text/plain"})
    assert response.status_code == 422
    assert response.json()["problems"][0]["place"] == "(file)"


def test_api_refuses_other_media_and_huge_bodies(client: TestClient) -> None:
    response = client.post(
        URL, content=EXAMPLE.encode(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 415

    huge = b"#" * (MAX_IMPORT_BYTES + 1)
    response = client.post(URL, content=huge, headers={"content-type": "application/yaml"})
    assert response.status_code == 413

    # Without Content-Length (chunked), the body is counted as it arrives.
    def chunks():
        for _ in range(6):
            yield b"#" * (1024 * 1024)

    response = client.post(URL, content=chunks(), headers={"content-type": "application/yaml"})
    assert response.status_code == 413

    response = client.post(URL, content=b"\xff\xfe bad", headers={"content-type": "application/yaml"})
    assert response.status_code == 422
    assert "UTF-8" in response.json()["problems"][0]["message"]

"""The registry import: the example and the Sichuan tree load, re-imports are idempotent, updates apply."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from central.registry.importer import RegistryImportError, import_registry_text
from central.registry.models import Department, Device, Hall, Item, Region, ServiceWindow, Staff
from tests.central.registry.helpers import BASE, EXAMPLE, row_counts


def _regions(session: Session) -> dict[str, tuple[str, str | None]]:
    """code → (level, parent code)."""
    parent = aliased(Region)
    rows = session.execute(
        select(Region.code, Region.level, parent.code).outerjoin(parent, parent.id == Region.parent_id)
    )
    return {code: (level, parent_code) for code, level, parent_code in rows}


def test_example_loads(session: Session) -> None:
    report = import_registry_text(session, text=EXAMPLE, origin="example.yaml")

    assert report.origin == "example.yaml"
    assert {kind: c.created for kind, c in report.kinds().items()} == {
        "regions": 3,
        "halls": 1,
        "departments": 1,
        "windows": 1,
        "staff": 1,
        "devices": 0,
        "items": 1,
    }
    assert _regions(session) == {
        "510000": ("province", None),
        "510100": ("city", "510000"),
        "510104": ("county", "510100"),
    }
    hall = session.scalars(select(Hall)).one()
    assert (hall.code, hall.name, hall.level, hall.region.code) == (
        "510000-ZWFW",
        "四川省政务服务中心",
        "provincial",
        "510000",
    )
    department = session.scalars(select(Department)).one()
    assert (department.code, department.hall.code) == ("SCJGJ", "510000-ZWFW")
    window = session.scalars(select(ServiceWindow)).one()
    assert (window.code, window.name, window.hall_id, window.department_id) == (
        "W01",
        "1号窗口",
        hall.id,
        department.id,
    )
    member = session.scalars(select(Staff)).one()
    assert (member.code, member.name, member.department_id, member.window_id, member.active) == (
        "S001",
        "张三",
        department.id,
        window.id,
        True,
    )
    item = session.scalars(select(Item)).one()
    assert (item.code, item.name, item.department_id) == ("SCJGJ-XK-001", "食品经营许可", department.id)
    assert (item.legal_limit_days, item.promised_limit_days, item.fee) == (20, 10, Decimal("0"))
    assert item.basis == "《食品安全法》第三十五条"
    assert (item.stage_limits, item.conditions, item.materials) == (None, None, None)


def test_sichuan_division_tree_loads(session: Session, repo_root: Path) -> None:
    text = (repo_root / "data" / "sichuan-regions.yaml").read_text(encoding="utf-8")
    report = import_registry_text(session, text=text, origin="sichuan-regions.yaml")

    assert report.regions.created == 205  # 1 + 21 + 183
    regions = _regions(session)
    assert len(regions) == 205
    levels = [level for level, _ in regions.values()]
    assert (levels.count("province"), levels.count("city"), levels.count("county")) == (1, 21, 183)
    assert regions["510000"] == ("province", None)
    assert regions["510100"] == ("city", "510000")
    assert regions["513401"] == ("county", "513400")  # 西昌市 under 凉山彝族自治州
    for code, (level, parent_code) in regions.items():
        if level == "city":
            assert parent_code == "510000", code
        elif level == "county":
            assert parent_code is not None and regions[parent_code][0] == "city", code
            assert parent_code[:4] == code[:4], code

    again = import_registry_text(session, text=text, origin="sichuan-regions.yaml")
    assert (again.regions.created, again.regions.updated, again.regions.unchanged) == (0, 0, 205)


def test_importing_twice_changes_nothing(session: Session) -> None:
    first = import_registry_text(session, text=EXAMPLE, origin="a")
    before = row_counts(session)
    second = import_registry_text(session, text=EXAMPLE, origin="a")

    assert first.changed and not second.changed
    for kind, counts in second.kinds().items():
        assert counts.created == counts.updated == 0, kind
        assert counts.unchanged == first.kinds()[kind].created, kind
    assert row_counts(session) == before


def test_update_changes_names_and_limits(session: Session) -> None:
    import_registry_text(session, text=EXAMPLE, origin="v1")
    changed = EXAMPLE.replace("name: 1号窗口", "name: 一号综合窗口").replace(
        "promised_limit_days: 10", "promised_limit_days: 8"
    )
    report = import_registry_text(session, text=changed, origin="v2")

    assert (report.windows.updated, report.windows.unchanged) == (1, 0)
    assert (report.items.updated, report.items.unchanged) == (1, 0)
    assert report.regions.unchanged == 3 and report.staff.unchanged == 1
    session.expire_all()
    assert session.scalars(select(ServiceWindow.name)).one() == "一号综合窗口"
    assert session.scalars(select(Item.promised_limit_days)).one() == 8
    assert row_counts(session)["windows"] == 1


def test_left_out_optional_keys_keep_stored_values_and_null_clears(session: Session) -> None:
    import_registry_text(session, text=EXAMPLE, origin="v1")
    without_basis = EXAMPLE.replace(', basis: "《食品安全法》第三十五条"', "")
    assert import_registry_text(session, text=without_basis, origin="v2").items.unchanged == 1
    session.expire_all()
    assert session.scalars(select(Item.basis)).one() == "《食品安全法》第三十五条"

    cleared = EXAMPLE.replace('basis: "《食品安全法》第三十五条"', "basis: null").replace(
        ', window: "W01"', ", window: null"
    )
    report = import_registry_text(session, text=cleared, origin="v3")
    assert (report.items.updated, report.staff.updated) == (1, 1)
    session.expire_all()
    assert session.scalars(select(Item.basis)).one() is None
    assert session.scalars(select(Staff.window_id)).one() is None


def test_file_may_reference_stored_records(session: Session, registry: dict[str, int]) -> None:
    before = row_counts(session)
    text = """\
windows:
  - {code: W02, name: 2号窗口, hall: "510000-ZWFW", department: SCJGJ}
staff:
  - {code: S002, name: 李四, department: SCJGJ, window: W02}
  - {code: S003, name: 王五, department: SCJGJ, window: W01}
devices:
  - {code: CAM-W01, kind: camera, name: 1号窗口摄像机, hall: "510000-ZWFW", window: W01}
  - {code: EDGE-1, kind: edge, name: 边缘盒, hall: "510104-ZWFW"}
items:
  - code: SCJGJ-XK-003
    name: 食品生产许可
    department: SCJGJ
    legal_limit_days: 20
    stage_limits: {accepted: 1, undertaken: 10, reviewed: 5, approved: 4}
    fee: 12.5
    conditions: 具备与生产食品相适应的场所
    materials: [申请书, 营业执照复印件]
"""
    report = import_registry_text(session, text=text, origin="more.yaml")

    assert (report.windows.created, report.staff.created, report.devices.created, report.items.created) == (
        1,
        2,
        2,
        1,
    )
    after = row_counts(session)
    assert after["windows"] == before["windows"] + 1 and after["regions"] == before["regions"]
    window_ids = dict(session.execute(select(ServiceWindow.code, ServiceWindow.id)).all())
    staff_windows = dict(session.execute(select(Staff.code, Staff.window_id)).all())
    assert staff_windows["S002"] == window_ids["W02"] and staff_windows["S003"] == window_ids["W01"]
    camera = session.scalars(select(Device).where(Device.code == "CAM-W01")).one()
    assert (camera.kind, camera.hall_id, camera.window_id) == ("camera", registry["hall"], window_ids["W01"])
    item = session.scalars(select(Item).where(Item.code == "SCJGJ-XK-003")).one()
    assert item.stage_limits == {"accepted": 1, "undertaken": 10, "reviewed": 5, "approved": 4}
    assert (item.fee, item.promised_limit_days, item.materials) == (
        Decimal("12.50"),
        None,
        ["申请书", "营业执照复印件"],
    )


def test_hall_level_defaults_from_region_and_sub_centre_is_explicit(session: Session) -> None:
    text = BASE.replace(
        "halls:\n",
        "halls:\n  - {code: CD-FZX, name: 成都高新分中心, region: '510100', level: sub_centre, address: 天府大道}\n",
    )
    import_registry_text(session, text=text, origin="halls.yaml")
    levels = dict(session.execute(select(Hall.code, Hall.level)).all())
    assert levels == {"510000-ZWFW": "provincial", "510100-ZWFW": "city", "CD-FZX": "sub_centre"}
    assert session.scalars(select(Hall.address).where(Hall.code == "CD-FZX")).one() == "天府大道"


def test_a_top_level_region_can_hang_under_a_stored_parent(session: Session) -> None:
    import_registry_text(session, text=BASE, origin="base")
    text = 'regions: [{code: "510104", name: 锦江区, level: county, parent: "510100"}]\n'
    assert import_registry_text(session, text=text, origin="county").regions.created == 1
    assert _regions(session)["510104"] == ("county", "510100")
    # Left top-level without `parent`, a stored region keeps its parent.
    report = import_registry_text(
        session, text='regions: [{code: "510104", name: 锦江区, level: county}]', origin="x"
    )
    assert report.regions.unchanged == 1
    assert _regions(session)["510104"] == ("county", "510100")


def test_json_is_accepted(session: Session) -> None:
    text = '{"regions": [{"code": "510000", "name": "四川省", "level": "province"}]}'
    assert import_registry_text(session, text=text, origin="r.json").regions.created == 1


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_an_empty_file_is_a_problem(session: Session, text: str) -> None:
    with pytest.raises(RegistryImportError) as caught:
        import_registry_text(session, text=text, origin="empty.yaml")
    assert [p.message for p in caught.value.problems] == ["the file is empty"]


def test_anchors_may_share_a_list(session: Session) -> None:
    text = """\
regions: [{code: "510000", name: 四川省, level: province}]
halls: [{code: H1, name: 中心, region: "510000"}]
departments: [{code: D1, name: 部门, hall: H1}]
items:
  - {code: I1, name: 甲, department: D1, legal_limit_days: 20, materials: &common [申请书, 身份证明]}
  - {code: I2, name: 乙, department: D1, legal_limit_days: 20, materials: *common}
"""
    import_registry_text(session, text=text, origin="anchors.yaml")
    assert session.scalars(select(Item.materials).order_by(Item.code)).all() == [["申请书", "身份证明"]] * 2


def test_a_top_level_region_may_name_a_parent_written_later_in_the_file(session: Session) -> None:
    text = """\
regions:
  - {code: "510104", name: 锦江区, level: county, parent: "510100"}
  - {code: "510000", name: 四川省, level: province, children: [{code: "510100", name: 成都市, level: city}]}
"""
    assert import_registry_text(session, text=text, origin="order.yaml").regions.created == 3
    assert _regions(session)["510104"] == ("county", "510100")

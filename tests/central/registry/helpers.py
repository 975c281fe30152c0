"""Registry files and row counts shared by the registry tests."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.registry.models import Department, Device, Hall, Item, Region, ServiceWindow, Staff

# The example from the issue, exactly.
EXAMPLE = """\
regions:
  - {code: "510000", name: 四川省, level: province, children: [
      {code: "510100", name: 成都市, level: city, children: [{code: "510104", name: 锦江区, level: county}]}]}
halls:       [{code: "510000-ZWFW", name: 四川省政务服务中心, region: "510000"}]
departments: [{code: "SCJGJ", name: 省市场监管局, hall: "510000-ZWFW"}]
windows:     [{code: "W01", name: 1号窗口, hall: "510000-ZWFW", department: "SCJGJ"}]
staff:       [{code: "S001", name: 张三, department: "SCJGJ", window: "W01"}]
items:       [{code: "SCJGJ-XK-001", name: 食品经营许可, department: "SCJGJ",
               legal_limit_days: 20, promised_limit_days: 10, fee: "0", basis: "《食品安全法》第三十五条"}]
"""

# Block style, so a bad case appended below it has predictable lines.
BASE = """\
regions:
  - code: "510000"
    name: 四川省
    level: province
    children:
      - code: "510100"
        name: 成都市
        level: city
halls:
  - code: "510000-ZWFW"
    name: 四川省政务服务中心
    region: "510000"
  - code: "510100-ZWFW"
    name: 成都市政务服务中心
    region: "510100"
departments:
  - code: SCJGJ
    name: 省市场监管局
    hall: "510000-ZWFW"
  - code: CDGA
    name: 成都市公安局
    hall: "510100-ZWFW"
"""

MODELS = {
    "regions": Region,
    "halls": Hall,
    "departments": Department,
    "windows": ServiceWindow,
    "staff": Staff,
    "devices": Device,
    "items": Item,
}


def row_counts(session: Session) -> dict[str, int]:
    return {
        kind: session.scalar(select(func.count()).select_from(model)) or 0 for kind, model in MODELS.items()
    }


def marked_line(text: str) -> int:
    """1-based line of the line carrying the `# <-` marker."""
    return next(number for number, line in enumerate(text.splitlines(), start=1) if "# <-" in line)

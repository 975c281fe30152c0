"""What a kiosk tells a citizen besides their case: the hall's item catalog (办事指南: conditions,
materials, fees, limits, legal basis) and the hall's rules and how to complain (SZ-6), the latter
drawn from the hall's rule profile so the screens say what the system enforces."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.profiles.assignment import profile_for_hall
from central.registry.models import Department, Hall, Item
from common.masking import scrub_identifiers
from common.public_feed import Catalog, CatalogItem, HallInfo, HallRef, InfoSection

logger = logging.getLogger(__name__)

LEVEL_NAMES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


def hall_catalog(session: Session, *, hall: Hall) -> Catalog:
    rows = session.execute(
        select(Item, Department.name)
        .join(Department, Department.id == Item.department_id)
        .where(Department.hall_id == hall.id)
        .order_by(Department.name, Item.code)
    ).all()
    items = [
        CatalogItem(
            code=item.code,
            name=item.name,
            department=department,
            legal_limit_days=item.legal_limit_days,
            promised_limit_days=item.promised_limit_days,
            fee=f"{item.fee:.2f}",
            basis=item.basis,
            conditions=item.conditions,
            materials=list(item.materials or []),
        )
        for item, department in rows
    ]
    return Catalog(hall=HallRef(code=hall.code, name=hall.name), items=items)


def hall_info(session: Session, *, hall: Hall, default_key: str) -> HallInfo:
    profile = profile_for_hall(session, hall_id=hall.id, default_key=default_key)
    hours = "、".join(str(period) for period in profile.presence.working_hours) or "以大厅公告为准"
    extension = profile.extension
    sections = [
        InfoSection(
            title="办理时限",
            text="每个事项都有法定时限和承诺时限（按工作日计算，节假日顺延）。受理后可凭办件编号和查询密码"
            "在本机查询办理进度。"
            + (
                f"确需延期的，经批准可延长一次，最多 {extension.max_workdays} 个工作日，并书面告知申请人。"
                if extension.max_times
                else "本中心事项不得延期。"
            ),
        ),
        InfoSection(title="办公时间", text=f"工作日 {hours}。"),
        InfoSection(
            title="一次性告知",
            text="申请材料不齐全或不符合法定形式的，窗口工作人员应当场或在规定时间内一次性告知需要补正的全部内容。",
        ),
        InfoSection(
            title="服务评价",
            text="办理结束后，请在窗口评价器上按键评价："
            + "、".join(f"{name}" for _, name in sorted(LEVEL_NAMES.items(), reverse=True))
            + "。每一件都评，每一个评价都被记录；不满意的评价会有专人回访。",
        ),
        InfoSection(
            title="监督投诉",
            text=f"对{hall.name}工作人员的服务态度、办事效率、违规收费等问题，可向本中心电子监察室投诉，"
            "也可在本机或网站提交投诉（可匿名）。投诉在 "
            f"{profile.complaints.decide_within_workdays} 个工作日内作出是否受理的决定，并告知实名投诉人。",
        ),
    ]
    address = scrub_identifiers(hall.address) if hall.address else None
    return HallInfo(hall=HallRef(code=hall.code, name=hall.name), address=address, sections=sections)

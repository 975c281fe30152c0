"""The demo's registry: a province, 2 cities, 4 counties, their halls, departments, windows, staff, items."""

from __future__ import annotations

import random
from typing import Any

CITIES = [
    ("510100", "成都市", [("510104", "锦江区"), ("510107", "武侯区")]),
    ("510700", "绵阳市", [("510703", "涪城区"), ("510704", "游仙区")]),
]
# (short code, department name, items: (name, legal days, promised days or None, fee, basis))
DEPARTMENTS: list[tuple[str, str, list[tuple[str, int, int | None, str, str]]]] = [
    (
        "SCJG",
        "市场监督管理局",
        [
            ("食品经营许可", 20, 10, "0", "《中华人民共和国食品安全法》第三十五条"),
            ("企业设立登记", 15, 3, "0", "《中华人民共和国市场主体登记管理条例》第十九条"),
            ("药品零售企业许可", 30, 15, "0", "《中华人民共和国药品管理法》第五十一条"),
            ("特种设备使用登记", 20, 5, "0", "《中华人民共和国特种设备安全法》第三十三条"),
        ],
    ),
    (
        "GA",
        "公安局",
        [
            ("居民身份证换领", 20, 15, "20", "《中华人民共和国居民身份证法》第八条"),
            ("户口迁移审批", 20, 10, "0", "《中华人民共和国户口登记条例》第十条"),
            ("剧毒化学品购买许可", 20, 5, "0", "《危险化学品安全管理条例》第三十九条"),
        ],
    ),
    (
        "RS",
        "人力资源和社会保障局",
        [
            ("劳务派遣经营许可", 20, 10, "0", "《中华人民共和国劳动合同法》第五十七条"),
            ("人力资源服务许可", 20, 10, "0", "《人力资源市场暂行条例》第十八条"),
        ],
    ),
    (
        "ZRZY",
        "自然资源局",
        [
            ("建设用地规划许可", 20, 12, "0", "《中华人民共和国城乡规划法》第三十七条"),
            ("不动产首次登记", 30, 5, "80", "《不动产登记暂行条例》第二十条"),
        ],
    ),
    (
        "WJ",
        "卫生健康委员会",
        [
            ("医疗机构执业登记", 45, 20, "0", "《医疗机构管理条例》第十条"),
            ("公共场所卫生许可", 20, 7, "0", "《公共场所卫生管理条例》第八条"),
        ],
    ),
]
# The live hall's counter services (即办件, done while the citizen waits) at its camera windows' two
# departments: the bulk of what those windows serve on the days `central.demo.counter_days` seeds,
# so their cameras' visitor counts have cases to be held against (dual-track). Kept out of the
# general case mix (`case_data`): their history is their own, same-day pace.
LIVE_HALL_REGION = "510000"
COUNTER_ITEMS: dict[str, tuple[str, int, int | None, str, str]] = {
    "SCJG": ("个体工商户设立登记", 15, 1, "0", "《促进个体工商户发展条例》"),
    "GA": ("临时居民身份证办理", 20, 1, "10", "《中华人民共和国居民身份证法》"),
}
COUNTER_ITEM_NO = 101  # their number in the department's item codes (after the permits)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅春建国志明海燕文博宇浩然欣怡子涵雨萱俊熙"


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def build_registry(rng: random.Random) -> dict[str, Any]:
    """A registry document in the `hallwatch registry import` shape."""
    regions = [
        {
            "code": "510000",
            "name": "四川省",
            "level": "province",
            "children": [
                {
                    "code": code,
                    "name": name,
                    "level": "city",
                    "children": [{"code": c, "name": n, "level": "county"} for c, n in counties],
                }
                for code, name, counties in CITIES
            ],
        }
    ]
    hall_regions = (
        [("510000", "四川省")]
        + [(c, n) for c, n, _ in CITIES]
        + [pair for _, _, counties in CITIES for pair in counties]
    )
    halls, departments, windows, staff, items = [], [], [], [], []
    for region_code, region_name in hall_regions:
        hall = f"{region_code}-ZWFW"
        halls.append({"code": hall, "name": f"{region_name}政务服务中心", "region": region_code})
        level_prefix = "省" if region_code == "510000" else region_name
        window_no = 0
        for short, dept_name, dept_items in DEPARTMENTS:
            dept = f"{region_code}-{short}"
            departments.append({"code": dept, "name": f"{level_prefix}{dept_name}", "hall": hall})
            for _ in range(2):
                window_no += 1
                window = f"W{window_no:02d}"
                windows.append(
                    {"code": window, "name": f"{window_no}号窗口", "hall": hall, "department": dept}
                )
                for seat in range(2):
                    staff.append(
                        {
                            "code": f"{region_code}-{window}-{seat + 1}",
                            "name": person_name(rng),
                            "department": dept,
                            "window": window,
                        }
                    )
            if region_code in ("510000", "510100", "510700", "510104"):
                numbered = list(enumerate(dept_items, start=1))
                if region_code == LIVE_HALL_REGION and short in COUNTER_ITEMS:
                    numbered.append((COUNTER_ITEM_NO, COUNTER_ITEMS[short]))
                for n, (name, legal, promised, fee, basis) in numbered:
                    items.append(
                        {
                            "code": f"{dept}-XK-{n:03d}",
                            "name": name,
                            "department": dept,
                            "legal_limit_days": legal,
                            "promised_limit_days": promised,
                            "fee": fee,
                            "basis": basis,
                            "materials": ["申请书", "申请人身份证明", "相关证明材料"],
                        }
                    )
    return {
        "regions": regions,
        "halls": halls,
        "departments": departments,
        "windows": windows,
        "staff": staff,
        "items": items,
    }

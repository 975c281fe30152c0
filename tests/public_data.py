"""Hypothesis strategies for what must never reach a public screen whole: applicants' names
(people and organisations), resident ID numbers and mobile numbers.

Use them to put such data into whatever feeds a public page, then check the page: none of the
drawn values may appear in it (see tests/common/test_masking.py). The names are drawn from
surnames and given-name characters that rarely form ordinary words, so a name found in a page is
a leak, not a coincidence with its Chinese UI text.

    from tests.public_data import chinese_names, company_names, id_numbers, mobile_numbers

    @given(name=chinese_names(), id_number=id_numbers(), phone=mobile_numbers())
    def test_page(name, id_number, phone): ...
"""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

_SURNAMES = (
    "王李张刘陈杨黄赵吴徐孙胡朱郭何罗梁宋郑谢韩唐冯董萧曹袁邓许傅沈曾彭吕苏卢蒋蔡贾魏薛阎余潘杜戴夏钟汪"
    "姚谭廖邹熊陆郝孔崔邱秦顾侯邵孟汤尹黎贺赖龚"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "皇甫", "令狐", "慕容", "司徒")
_GIVEN = (
    "伟芳娜敏静丽强磊洋艳杰娟涛超霞鹏辉婷玲琳蕾倩颖露瑶璐琪欣怡梓涵浩宇轩睿泽博峰鑫昊晨旭彬斌锋勇毅俊翔"
    "淼森焱蓉莉菲嘉琦瑾萱雯馨妍婧蓓珊岚璇晗钰"
)
_PLACES = ("", "成都", "成都市", "四川省", "四川省成都市", "武侯区", "成都市武侯区", "深圳市南山区", "绵阳")
_TRADE_CHARS = "天府川南蜀锦华信鑫隆盛泰恒达瑞祥汇丰宏远聚源德嘉兴"
_INDUSTRIES = ("", "软件", "科技", "建筑工程", "商贸", "餐饮管理", "物流", "农业", "文化传媒")
_FORMS = (
    "有限公司",
    "有限责任公司",
    "股份有限公司",
    "农民专业合作社",
    "会计师事务所",
    "小吃店",
    "集团有限公司",
)
# The area codes of a few real places (the first six digits of an ID number).
_AREAS = ("110101", "310104", "440305", "510104", "510107", "511302", "650102", "130102")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"


def id_check_char(first17: str) -> str:
    """The 18th character of a resident ID number (GB 11643, ISO 7064 MOD 11-2)."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def chinese_names() -> st.SearchStrategy[str]:
    """People's names of 2–4 Chinese characters: 李伟, 张晓明, 欧阳娜琳."""
    single = st.builds(
        lambda surname, given: surname + given,
        st.sampled_from(_SURNAMES),
        st.text(st.sampled_from(_GIVEN), min_size=1, max_size=2),
    )
    compound = st.builds(
        lambda surname, given: surname + given,
        st.sampled_from(_COMPOUND_SURNAMES),
        st.text(st.sampled_from(_GIVEN), min_size=1, max_size=2),
    )
    return st.one_of(single, compound)


def id_numbers() -> st.SearchStrategy[str]:
    """18-character resident ID numbers with a valid check character (X included, as typed)."""

    def build(area: str, born: date, serial: int) -> str:
        first17 = f"{area}{born:%Y%m%d}{serial:03d}"
        return first17 + id_check_char(first17)

    return st.builds(
        build,
        st.sampled_from(_AREAS),
        st.dates(min_value=date(1930, 1, 1), max_value=date(2024, 12, 31)),
        st.integers(min_value=0, max_value=999),
    )


def mobile_numbers() -> st.SearchStrategy[str]:
    """Mainland mobile numbers, 11 digits: 1, then 3–9, then nine digits."""
    return st.builds(
        lambda second, rest: f"1{second}{rest:09d}",
        st.integers(min_value=3, max_value=9),
        st.integers(min_value=0, max_value=999_999_999),
    )


def company_names() -> st.SearchStrategy[str]:
    """Organisations as a business licence names them: 四川省成都市天府软件有限公司, 鑫隆小吃店."""
    return st.builds(
        lambda place, trade, industry, form: place + trade + industry + form,
        st.sampled_from(_PLACES),
        st.text(st.sampled_from(_TRADE_CHARS), min_size=2, max_size=4),
        st.sampled_from(_INDUSTRIES),
        st.sampled_from(_FORMS),
    )

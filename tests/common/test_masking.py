"""common.masking, the one way a public screen shows people, organisations and free text: tables of
names as clerks type them (garbage included), and properties over generated names, ID numbers and
mobile numbers: none of them ever comes out whole."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.masking import (
    MASK_CHAR,
    SCRUBBED,
    is_organisation,
    mask_applicant,
    mask_person_name,
    public_staff,
    scrub_identifiers,
    shorten_organisation,
)
from tests.public_data import chinese_names, company_names, id_check_char, id_numbers, mobile_numbers

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def digit_run(text: str) -> int:
    """The longest run of digits (any script: ０１２, ¹²³ too) in `text`."""
    longest = current = 0
    for char in text:
        current = current + 1 if char.isdigit() else 0
        longest = max(longest, current)
    return longest


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三明", "张*明"),
        ("欧阳小明", "欧**明"),
        ("李四", "李*"),
        ("李", "*"),
        ("John Smith", "J*** S****"),
        ("Ayşe Kaya", "A*** K***"),
        ("Ays\u0327e Kaya", "A*** K***"),  # decomposed ş counts as one letter
        ("阿依古丽·买买提", "阿**丽·买*提"),
        ("阿依古丽•买买提", "阿**丽·买*提"),  # a bullet typed for the middle dot
        ("买买提·艾力·阿不都热依木", "买*提·艾*·阿****木"),
        ("  张三明  ", "张*明"),
        ("张 三 明", "张*明"),
        ("J R", "J *"),  # initials alone would show the whole name
        ("Ｊｏｈｎ", "Ｊ***"),
        ("张Wei", "张***"),
        ("😀😀", "😀*"),
        ("张*明", "张*明"),  # already masked: stays
        ("", ""),
        ("   ", ""),
        ("·", ""),
    ],
)
def test_person_names(name: str, masked: str) -> None:
    assert mask_person_name(name) == masked


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("成都天府软件有限公司", "成都天**有限公司"),
        ("四川省川南建筑工程有限公司", "四川省川**有限公司"),
        ("广东省深圳市南山区腾讯科技有限公司", "广东省深圳市南山区腾**有限公司"),
        ("四川天府银行股份有限公司", "四川天**股份有限公司"),
        ("成都市中心医院", "成都市中**医院"),
        ("武侯区张三明小吃店", "武侯区张**店"),
        ("张三明（个体工商户）", "张**（个体工商户）"),
        ("成都天府投资合伙企业（有限合伙）", "成都天**合伙企业（有限合伙）"),
        ("郫都区天府农民专业合作社", "郫都区天**农民专业合作社"),
        ("信达会计师事务所", "信**会计师事务所"),
        ("凉山彝族自治州民族中学", "凉山彝族自治州民**中学"),
        ("成都 天府 软件 有限公司", "成都天**有限公司"),
        ("（成都）天府有限公司", "成**有限公司"),
        ("成都天**有限公司", "成都天**有限公司"),  # already shortened: stays
        ("中华人民共和国某某", "中华**"),  # no legal form: the first two characters
        ("公司", "公**"),
        ("Acme Trading Ltd", "Ac**"),
        ("", ""),
    ],
)
def test_organisations_are_shortened_like_public_notices(name: str, short: str) -> None:
    assert shorten_organisation(name) == short


@pytest.mark.parametrize(
    ("name", "organisation"),
    [
        ("张三明", False),
        ("欧阳小明", False),
        ("李一行", False),
        ("阿依古丽·买买提", False),
        ("买买提·艾力·阿不都热依木", False),
        ("John Smith", False),
        ("", False),
        ("成都天府软件有限公司", True),
        ("张三明小吃店", True),
        ("郫都区天府农民专业合作社", True),
        ("中华人民共和国", True),  # seven Chinese characters
        ("Acme Ltd", True),
        ("ACME TRADING COMPANY", True),
    ],
)
def test_what_is_an_organisation(name: str, organisation: bool) -> None:
    assert is_organisation(name) is organisation


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        (None, None),
        ("", None),
        ("  \t\n", None),
        ("张三明", "张*明"),
        ("John Smith", "J*** S****"),
        ("成都天府软件有限公司", "成都天**有限公司"),
        ("51010119900101123X", None),
        ("510101900101123", None),
        ("张三明 51010119900101123X", "张*明"),
        ("张三明（身份证：51010119900101123x）", "张*明"),
        ("李四13800138000", "李*"),
        ("李四 138-0013-8000", "李*"),
        ("李四 +86 138 0013 8000", "李*"),
        ("王五 电话 028-85551234", "王*"),
        ("David tel:13800138000", "D****"),
        ("１３８００１３８０００", None),
        ("张三明１３８００１３８０００", "张*明"),
        ("张³⁴⁵⁶⁷⁸⁹明", "张*"),  # superscript digits are digits too
        ("12345", None),
        ("张三2", "张*"),
        ("成都天府软件有限公司13800138000", "成都天**有限公司"),
        ("(张三明)", "张*明"),
        ("\x00张三明\u200b", "张*明"),
        ("😀", "*"),
        ("x" * 10_000, "x" + "*" * 63),
        ("阿依古丽·买买提", "阿**丽·买*提"),
    ],
)
def test_applicants(name: str | None, shown: str | None) -> None:
    assert mask_applicant(name) == shown


@pytest.mark.parametrize(
    ("text", "published"),
    [
        ("身份证号51010119900101123X已核验", f"身份证号{SCRUBBED}已核验"),
        ("旧证510101900101123", f"旧证{SCRUBBED}"),
        ("证号 510101 19900101 123X", f"证号 {SCRUBBED}"),
        ("请联系13800138000", f"请联系{SCRUBBED}"),
        ("+86 138 0013 8000", SCRUBBED),
        ("86-138-0013-8000", SCRUBBED),
        ("电话：１３８　００１３　８０００。", f"电话：{SCRUBBED}。"),
        ("账号 123456789", f"账号 {SCRUBBED}"),
        ("卡号 6222 0202 0000 1234", f"卡号 {SCRUBBED}"),
        ("张三(13800138000)、李四(13900139000)", f"张三({SCRUBBED})、李四({SCRUBBED})"),
        ("3号窗口 2024-10-01 09:00 热线028-12345 或 12345", None),
        ("2024-10-01 2024-10-31 办理 12345678", None),
        ("热线 028-85551234", None),
        ("20241001", None),
        (SCRUBBED, None),
        ("", None),
    ],
)
def test_published_text(text: str, published: str | None) -> None:
    assert scrub_identifiers(text) == (text if published is None else published)


@pytest.mark.parametrize(
    ("name", "code", "shown"),
    [
        ("王芳", "A1023", "王芳(A1023)"),
        ("王芳", None, "王芳"),
        ("王芳", "", "王芳"),
        (" 王芳 ", " A1023 ", "王芳(A1023)"),
        ("王芳 13800138000", "A1023", "王芳(A1023)"),
        ("王芳2", "A1", "王芳(A1)"),
        ("王芳", "51010119900101123X", "王芳"),  # an ID number typed as the staff number
        ("王芳", "20230015", "王芳(20230015)"),  # eight-digit staff numbers are numbers
        ("", "A1023", "A1023"),
        ("", None, ""),
    ],
)
def test_staff_by_name_and_number(name: str, code: str | None, shown: str) -> None:
    assert public_staff(name, code) == shown


def test_the_generated_id_numbers_are_valid() -> None:
    assert id_check_char("11010519491231002") == "X"  # the standard's own example
    assert id_check_char("44052418800101001") == "4"


# --- properties ----------------------------------------------------------------------------------
PHONE_FORMATS: list[Callable[[str], str]] = [
    lambda p: p,
    lambda p: f"{p[:3]} {p[3:7]} {p[7:]}",
    lambda p: f"{p[:3]}-{p[3:7]}-{p[7:]}",
    lambda p: f"+86 {p}",
    lambda p: f"+86-{p[:3]}-{p[3:7]}-{p[7:]}",
    lambda p: f"86{p}",
    lambda p: p.translate(FULL_WIDTH),
]
ID_FORMATS: list[Callable[[str], str]] = [
    lambda i: i,
    lambda i: i.lower(),
    lambda i: f"{i[:6]} {i[6:14]} {i[14:]}",
    lambda i: i.translate(FULL_WIDTH),
]


@st.composite
def identifiers(draw: st.DrawFn) -> tuple[str, str]:
    """(the identifier as typed, its bare digits) for an ID number or a mobile number."""
    if draw(st.booleans()):
        bare = draw(id_numbers())
        return draw(st.sampled_from(ID_FORMATS))(bare), bare
    bare = draw(mobile_numbers())
    return draw(st.sampled_from(PHONE_FORMATS))(bare), bare


def revealed(text: str | None) -> Counter[str]:
    return Counter(c for c in text or "" if c != MASK_CHAR and not c.isspace() and c not in "·")


def assert_hidden(shown: str | None, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in (shown or ""), (shown, secret)


@given(name=chinese_names())
def test_a_person_is_never_shown_whole(name: str) -> None:
    shown = mask_applicant(name)
    assert shown is not None
    assert_hidden(shown, name)
    assert len(shown) == len(name) or is_organisation(name)
    assert mask_applicant(shown) == shown


@given(name=company_names())
def test_an_organisation_is_never_shown_whole(name: str) -> None:
    shown = mask_applicant(name)
    assert shown is not None and MASK_CHAR * 2 in shown
    assert_hidden(shown, name)
    assert mask_applicant(shown) == shown


@given(
    name=st.one_of(chinese_names(), company_names()),
    identifier=identifiers(),
    glue=st.sampled_from(["", " ", "，", "（电话：{}）", " 身份证号:{} ", "/"]),
    before=st.booleans(),
)
def test_an_identifier_typed_into_the_name_is_removed(
    name: str, identifier: tuple[str, str], glue: str, before: bool
) -> None:
    typed, bare = identifier
    piece = glue.format(typed) if "{}" in glue else glue + typed
    field = piece + name if before else name + piece
    shown = mask_applicant(field)
    assert shown is not None
    assert digit_run(shown) < 6, shown
    assert_hidden(shown, name, typed, bare)


@given(identifier=identifiers())
def test_a_name_field_holding_only_an_identifier_shows_nothing(identifier: tuple[str, str]) -> None:
    assert mask_applicant(identifier[0]) is None


@settings(max_examples=300)
@given(name=st.text(max_size=80))
def test_garbage_names(name: str) -> None:
    shown = mask_applicant(name)
    assert shown is None or (shown.strip() and digit_run(shown) < 6)
    original = name.strip()
    if len(original) >= 2 and MASK_CHAR not in original:
        assert_hidden(shown, original)
    again = mask_applicant(shown)
    assert not revealed(again) - revealed(shown), (shown, again)  # masking twice shows no more


NOTICE_TEXT = st.text(
    st.one_of(st.sampled_from("请到号窗口办理业务，。：（）联系电话"), st.characters(codec="utf-8")),
    max_size=30,
)


@given(before=NOTICE_TEXT, identifier=identifiers(), after=NOTICE_TEXT)
def test_published_text_never_holds_an_identifier(
    before: str, identifier: tuple[str, str], after: str
) -> None:
    typed, bare = identifier
    published = scrub_identifiers(before + typed + after)
    assert_hidden(published, typed, bare)
    assert_hidden(
        re.sub(r"\D", "", published.translate(str.maketrans("０１２３４５６７８９", "0123456789"))), bare
    )
    assert scrub_identifiers(published) == published


@given(text=NOTICE_TEXT)
def test_published_text_without_identifiers_is_unchanged(text: str) -> None:
    if sum(c.isdigit() for c in text) < 9:
        assert scrub_identifiers(text) == text


@given(name=chinese_names(), code=st.from_regex(r"[A-Z][0-9]{3,5}", fullmatch=True), identifier=identifiers())
def test_staff_names_lose_identifiers(name: str, code: str, identifier: tuple[str, str]) -> None:
    assert public_staff(name + identifier[0], code) == f"{name}({code})"

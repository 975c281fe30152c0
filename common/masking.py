"""What a public screen may show of a person or an organisation (RULES "Public disclosure", QTH-4,
SZ-6): every public page, feed and kiosk answer goes through these functions and nothing else.

- Applicants: people as 张*明 / 李* / J*** S****, organisations shortened the way public notices
  (信用中国, 企业信息公示) do: 成都天**有限公司. Never an ID number, a phone number or an address:
  whatever a clerk typed into the name field that looks like one is removed first.
- Staff: by name and number only, 王芳(A1023).
- Free text that is published (hall notices): ID numbers, mobile numbers and long digit runs become
  `[已隐去]`; dates, window numbers and hotlines stay.

Pure functions, stdlib only. Digits are any Unicode decimal digits (full-width ０１２ included).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterable

logger = logging.getLogger(__name__)

MASK_CHAR = "*"
SCRUBBED = "[已隐去]"
# A name field longer than this is garbage; only its start is masked (bounds the output's length).
MAX_APPLICANT_CHARS = 64
# Name digits: an identifier hidden in a name field is this many digits or more (landlines included).
_NAME_NUMBER_DIGITS = 6
# Published text: a bare run this long is an account, card or ID number, not a date or hotline.
_TEXT_RUN_DIGITS = 9
_TEXT_GROUPED_DIGITS = 12

_CJK = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]"
_CJK_CHAR = re.compile(_CJK)
_MIDDLE_DOT = "·"
_DOTS = re.compile("[·•‧・･∙⋅]")
_NAME_PUNCTUATION = frozenset("'’-.·•‧・･∙⋅")  # O'Brien, Jean-Luc, J. Smith, 阿依古丽·买买提
_LOOSE_PUNCTUATION = frozenset(("Pc", "Pd", "Po", "Pi", "Pf"))


def _table(words: str) -> tuple[str, ...]:
    """A table written as one string, its entries separated by spaces."""
    return tuple(words.split())


def _alternatives(words: Iterable[str]) -> str:
    """A regex alternation, longest first (so a longer suffix wins over its own tail)."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


# --- numbers -------------------------------------------------------------------------------------
# Matched on a copy whose digits are all ASCII (same length, so the spans fit the original).
_SEP = "[ \t\u00a0\u3000\\-\u2010\u2011\u2012\u2013\u2014\uff0d]"
_NUMBER = re.compile(
    "(?<![0-9])(?:"
    rf"(?P<id>[0-9]{{6}}{_SEP}?[0-9]{{8}}{_SEP}?[0-9]{{3}}[0-9XxＸｘ])"
    rf"|(?P<mobile>(?:[+＋]?86{_SEP}?)?1{_SEP}?[3-9](?:{_SEP}?[0-9]){{9}})"
    rf"|(?P<grouped>[0-9]{{3,}}(?:{_SEP}[0-9]{{3,}})+)"
    "|(?P<run>[0-9]+)"
    ")(?![0-9])"
)
_LABELS = _table(
    "身份证号码 身份证号 身份证 证件号码 证件号 手机号码 手机号 手机 联系电话 电话 tel phone mobile id"
)
_HOLE = "\x00"  # where an identifier was cut out of a name (control characters are dropped first)
_LABELLED_HOLE = re.compile(
    rf"(?:(?<![A-Za-z])(?:{_alternatives(_LABELS)}))?[\s:：=]*{_HOLE}[\s,，;；/、]*", re.IGNORECASE
)
_EMPTY_BRACKETS = re.compile(r"[(（\[【]\s*[)）\]】]")


def _ascii_digits(text: str) -> str:
    table = {ord(c): str(unicodedata.decimal(c)) for c in set(text) if c.isdecimal() and not c.isascii()}
    return text.translate(table) if table else text


def _digit_count(text: str) -> int:
    return sum(c.isdigit() for c in text)


def _replace_numbers(text: str, hide: Callable[[re.Match[str]], bool], replacement: str) -> str:
    probe, out, last = _ascii_digits(text), [], 0
    for match in _NUMBER.finditer(probe):
        if hide(match):
            out += [text[last : match.start()], replacement]
            last = match.end()
    out.append(text[last:])
    return "".join(out)


def _published_identifier(match: re.Match[str]) -> bool:
    kind, digits = match.lastgroup, _digit_count(match[0])
    if kind in ("id", "mobile"):
        return True
    return digits >= (_TEXT_GROUPED_DIGITS if kind == "grouped" else _TEXT_RUN_DIGITS)


def _name_identifier(match: re.Match[str]) -> bool:
    return match.lastgroup in ("id", "mobile") or _digit_count(match[0]) >= _NAME_NUMBER_DIGITS


def scrub_identifiers(text: str) -> str:
    """`text` with every ID number, mobile number and long number replaced by `[已隐去]`.

    Replaced: resident ID numbers (18 characters, the last may be X; the old 15 digits), mainland
    mobiles (1[3-9] and 9 digits, optionally +86 / 86, spaces or dashes inside), any other run of 9
    or more digits, and digit groups (3+ digits each, one space or dash between) of 12 or more.
    Kept: dates, times, window numbers, hotlines.

    >>> scrub_identifiers("请张先生(身份证51010119900101123X, 电话138 0013 8000)到3号窗口")
    '请张先生(身份证[已隐去], 电话[已隐去])到3号窗口'
    >>> scrub_identifiers("2024-10-01起 热线028-12345或12345")
    '2024-10-01起 热线028-12345或12345'
    """
    return _replace_numbers(text, _published_identifier, SCRUBBED)


# --- cleaning ------------------------------------------------------------------------------------
def _clean(text: str) -> str:
    """NFC, control / format characters dropped, whitespace collapsed to single spaces, stripped."""
    text = unicodedata.normalize("NFC", text)
    kept = (" " if c.isspace() else c for c in text if c.isspace() or unicodedata.category(c)[0] != "C")
    return " ".join("".join(kept).split())


def _trim(text: str) -> str:
    """Strip spaces and punctuation (a leftover comma, dash) from both ends; brackets and mask
    characters stay (an organisation's name may end in （有限合伙）)."""

    def loose(c: str) -> bool:
        return c != MASK_CHAR and (c.isspace() or unicodedata.category(c) in _LOOSE_PUNCTUATION)

    start, end = 0, len(text)
    while start < end and loose(text[start]):
        start += 1
    while end > start and loose(text[end - 1]):
        end -= 1
    return text[start:end]


def _without_identifiers(name: str) -> str:
    """A name field with any ID, phone or other long number (and its label, 电话: …) cut out."""
    holed = _replace_numbers(_clean(name), _name_identifier, _HOLE)
    if _HOLE not in holed:
        return holed
    text = _LABELLED_HOLE.sub(" ", holed).replace(_HOLE, " ")
    return _trim(_clean(_EMPTY_BRACKETS.sub(" ", text)))


def _person_text(text: str) -> str:
    """What of a name field can be part of a person's name: no digits, no brackets or commas."""

    def kept(c: str) -> bool:
        return c in _NAME_PUNCTUATION or c == MASK_CHAR or not unicodedata.category(c).startswith("P")

    return _clean("".join(c if kept(c) else " " for c in text if not c.isdigit()))


def _is_cjk(char: str) -> bool:
    return _CJK_CHAR.fullmatch(char) is not None


# --- people --------------------------------------------------------------------------------------
def _mask_chinese(name: str) -> str:
    if len(name) <= 2:
        return name[:1] + MASK_CHAR if len(name) == 2 else MASK_CHAR * len(name)
    return name[0] + MASK_CHAR * (len(name) - 2) + name[-1]


def _mask_words(part: str) -> str:
    words = part.split()
    if all(len(w) == 1 for w in words):
        # Initials only ("J R"): keeping each word's first letter would show all of it.
        head = words[0] if len(words) > 1 else MASK_CHAR
        return " ".join([head] + [MASK_CHAR] * (len(words) - 1))
    return " ".join(w[0] + MASK_CHAR * (len(w) - 1) for w in words)


def _mask_part(part: str) -> str:
    if all(_is_cjk(c) or c == MASK_CHAR or c.isspace() for c in part):
        return _mask_chinese("".join(part.split()))
    return _mask_words(part)


def mask_person_name(name: str) -> str:
    """A person's name as public screens show it: never whole, one `*` per hidden character.

    Chinese names keep their first and last character; Latin and other scripts keep each word's
    first letter; a name with a middle dot (阿依古丽·买买提) has each part masked so. Already masked
    input stays as it is. Blank input gives "".

    >>> [mask_person_name(n) for n in ("张三明", "欧阳小明", "李四", "李")]
    ['张*明', '欧**明', '李*', '*']
    >>> mask_person_name("John Smith"), mask_person_name("阿依古丽·买买提")
    ('J*** S****', '阿**丽·买*提')
    """
    parts = (p.strip() for p in _DOTS.split(_clean(name)))
    return _MIDDLE_DOT.join(_mask_part(p) for p in parts if p)


# --- organisations -------------------------------------------------------------------------------
_PROVINCES = _table(
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 "
    "海南 四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门"
)
_PROVINCE_SUFFIXES = _table("壮族自治区 回族自治区 维吾尔自治区 特别行政区 自治区 省 市")
# Cities public notices name without 市 (the hall profiles' provinces first, then the large ones).
_CITIES = _table(
    "成都 绵阳 自贡 攀枝花 泸州 德阳 广元 遂宁 内江 乐山 南充 眉山 宜宾 广安 达州 雅安 巴中 资阳 "
    "深圳 广州 东莞 佛山 珠海 杭州 宁波 南京 苏州 无锡 武汉 西安 长沙 郑州 济南 青岛 大连 沈阳 "
    "哈尔滨 长春 石家庄 太原 合肥 福州 厦门 南昌 南宁 海口 贵阳 昆明 拉萨 兰州 西宁 银川 乌鲁木齐 呼和浩特"
)
_PLACE = (
    f"(?:{_alternatives(_PROVINCES)})(?:{_alternatives(_PROVINCE_SUFFIXES)})?"
    f"|(?:{_alternatives(_CITIES)})市?"
    f"|{_CJK}{{2,8}}?自治[州县旗]"
    f"|{_CJK}{{2}}[市州县区旗盟]"
    f"|{_CJK}{{3}}[县区旗]"
)
# Legal forms and kinds of organisation (what a public notice keeps at the end of a name).
_FORMS = _table(
    "集团股份有限公司 集团有限公司 股份有限公司 有限责任公司 有限公司 分公司 总公司 公司 集团 "
    "农民专业合作社 专业合作社 合作社 联合社 合伙企业 个人独资企业 个体工商户 个体户 "
    "律师事务所 会计师事务所 事务所 工作室 经营部 营业部 门市部 分店 商行 商店 超市 酒店 饭店 餐馆 "
    "餐厅 药房 药店 诊所 医院 卫生院 幼儿园 学校 中学 小学 大学 学院 研究院 研究所 设计院 中心 "
    "协会 学会 商会 基金会 委员会 居委会 村委会 办事处 银行"
)
# One character alone marks an organisation only at the end ("李一行" is a person, so no 行 here).
_FORM_ENDINGS = _table("厂 店 社 馆 院 所 部 站 局 处")
_LATIN_ORG = re.compile(r"\b(?:ltd|limited|inc|llc|llp|plc|corp|corporation|company|gmbh)\b", re.IGNORECASE)
_FORM = f"(?:{_alternatives(_FORMS + _FORM_ENDINGS)})"
_ORG_SHAPE = re.compile(
    f"^(?P<place>(?:{_PLACE}){{0,3}})(?P<trade>.+?)"
    f"(?P<form>[(（]{_FORM}[)）]|{_FORM}(?:[(（][^()（）]{{1,12}}[)）])?)$",
    re.DOTALL,
)
_ORG_CJK_CHARS = 6


def is_organisation(name: str) -> bool:
    """Whether an applicant's name is an organisation's: it has a legal form or kind of organisation
    in it (有限公司, 合作社 …, or 厂 / 店 … at the end, or Ltd / Inc …), or more than six Chinese
    characters (a name with a middle dot, 买买提·艾力·阿不都热依木, is a person's however long).

    >>> is_organisation("成都天府软件有限公司"), is_organisation("张三明"), is_organisation("李一行")
    (True, False, False)
    """
    text = _clean(name)
    compact = "".join(text.split())
    if any(form in compact for form in _FORMS) or compact.endswith(tuple(_FORM_ENDINGS)):
        return True
    if _LATIN_ORG.search(text):
        return True
    return _DOTS.search(text) is None and len(_CJK_CHAR.findall(compact)) > _ORG_CJK_CHARS


def shorten_organisation(name: str) -> str:
    """An organisation's name the way public notices shorten it: the leading place name and the legal
    form stay, the trade name between them becomes its first character and `**`. Without a
    recognisable form, the first two characters and `**`. Blank input gives "".

    >>> shorten_organisation("成都天府软件有限公司"), shorten_organisation("四川省川南建筑工程有限公司")
    ('成都天**有限公司', '四川省川**有限公司')
    >>> shorten_organisation("武侯区张三明小吃店"), shorten_organisation("Acme Trading Ltd")
    ('武侯区张**店', 'Ac**')
    """
    text = _clean(name)
    if _CJK_CHAR.search(text):
        text = "".join(text.split())
    if not text:
        return ""
    match = _ORG_SHAPE.match(text)
    if match is None:
        return text[: 2 if len(text) > 2 else 1] + MASK_CHAR * 2
    trade = match["trade"]
    first = next((c for c in trade if c.isalnum()), trade[0])
    return f"{match['place']}{first}{MASK_CHAR * 2}{match['form']}"


# --- what the public contract calls --------------------------------------------------------------
def mask_applicant(name: str | None) -> str | None:
    """An applicant as every public screen shows them (PublicCase.applicant).

    Identifiers a clerk typed into the name (ID number, phone, any 6+ digit number, with its label)
    are cut out first; then an organisation is shortened and a person masked. None when nothing
    is left to show. The result never holds 6 digits in a row, nor the whole name.

    >>> [mask_applicant(n) for n in ("张三明", "成都天府软件有限公司", "李四 13800138000", " ", None)]
    ['张*明', '成都天**有限公司', '李*', None, None]
    """
    if name is None:
        return None
    text = _trim(_without_identifiers(name)[:MAX_APPLICANT_CHARS])
    if not text:
        return None
    if is_organisation(text):
        return shorten_organisation(text) or None
    return mask_person_name(_person_text(text)) or None


def public_staff(name: str, code: str | None) -> str:
    """A member of staff as public screens show them: name and staff number only, 王芳(A1023).

    Digits and brackets in the name field are dropped (an identifier with its label); a staff number that is an
    ID or phone number is left out.

    >>> public_staff("王芳", "A1023"), public_staff("王芳", None), public_staff("王芳13800138000", "")
    ('王芳(A1023)', '王芳', '王芳')
    """
    person = _trim(_person_text(_without_identifiers(name)))
    number = _clean(code or "")
    if number and scrub_identifiers(number) != number:
        number = ""
    if person and number:
        return f"{person}({number})"
    return person or number


def mask_phone(phone: str | None) -> str | None:
    """A phone number as anyone but the people handling a complaint see it: the first three and
    last four digits of a long number, the last two of a short one (none of one under four
    digits), every other digit `*`; only digits are kept.

    >>> mask_phone("13800138000"), mask_phone("028-8765 4321"), mask_phone("12345"), mask_phone(" ")
    ('138****8000', '028****4321', '***45', None)
    """
    digits = "".join(c for c in _ascii_digits(phone or "") if c.isdigit())
    if not digits:
        return None
    if len(digits) >= 11:
        return digits[:3] + MASK_CHAR * (len(digits) - 7) + digits[-4:]
    if len(digits) < 4:
        return MASK_CHAR * len(digits)
    return MASK_CHAR * (len(digits) - 2) + digits[-2:]

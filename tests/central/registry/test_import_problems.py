"""Bad registry files: every problem is named with its place and line, and nothing is written."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.registry import importer
from central.registry.importer import RegistryConflictError, RegistryImportError, import_registry_text
from central.registry.models import ServiceWindow
from tests.central.registry.helpers import BASE, EXAMPLE, marked_line, row_counts


def appended(tail: str) -> str:
    return BASE + tail


def replaced(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


@dataclass(frozen=True)
class Bad:
    """A file, the place of its problem and a piece of the message; the line is the one marked `# <-`."""

    text: str
    place: str
    message: str


ITEM = "items:\n  - code: I1\n    name: 事项\n    department: SCJGJ\n"

BAD_FILES = {
    "unknown key (typo)": Bad(
        appended("windows:\n  - code: W01\n    name: 1号窗口\n    hal: '510000-ZWFW'  # <-\n"),
        "windows[0].hal",
        "unknown key 'hal'; did you mean 'hall'?",
    ),
    "unknown key in a nested region": Bad(
        replaced("        level: city\n", "        level: city\n        rule_profil: sichuan-2011  # <-\n"),
        "regions[0].children[0].rule_profil",
        "unknown key 'rule_profil'; did you mean 'rule_profile'?",
    ),
    "unknown region": Bad(
        replaced('    region: "510100"\n', '    region: "510199"  # <-\n'),
        "halls[1].region",
        "unknown region 510199",
    ),
    "unknown hall": Bad(
        replaced('    hall: "510100-ZWFW"\n', '    hall: "510199-ZWFW"  # <-\n'),
        "departments[1].hall",
        "unknown hall 510199-ZWFW",
    ),
    "unknown department": Bad(
        appended(
            "items:\n  - code: I1\n    name: 事项\n    department: NOPE  # <-\n    legal_limit_days: 20\n"
        ),
        "items[0].department",
        "unknown department NOPE",
    ),
    "duplicate code in the file": Bad(
        appended(
            "staff:\n  - {code: S1, name: 张三, department: SCJGJ}\n"
            "  - {code: S1, name: 李四, department: CDGA}  # <-\n"
        ),
        "staff[1].code",
        "duplicate staff S1 (first at staff[0])",
    ),
    "duplicate region in the tree": Bad(
        replaced("halls:\n", '  - {code: "510100", name: 成都, level: city}  # <-\nhalls:\n'),
        "regions[1].code",
        "duplicate region 510100 (first at regions[0].children[0])",
    ),
    "duplicate YAML key": Bad(
        replaced("    name: 成都市政务服务中心\n", "    name: 成都市政务服务中心\n    name: 成都  # <-\n"),
        "halls[1].name",
        "key 'name' appears twice",
    ),
    "promised > legal": Bad(
        appended(ITEM + "    legal_limit_days: 10\n    promised_limit_days: 15  # <-\n"),
        "items[0].promised_limit_days",
        "promised limit 15 exceeds the legal limit 10",
    ),
    "negative limit": Bad(
        appended(ITEM + "    legal_limit_days: -5  # <-\n"),
        "items[0].legal_limit_days",
        "greater than or equal to 1",
    ),
    "absurd limit": Bad(
        appended(ITEM + "    legal_limit_days: 100000  # <-\n"),
        "items[0].legal_limit_days",
        "less than or equal to 365",
    ),
    "limit not a whole number": Bad(
        appended(ITEM + "    legal_limit_days: 2.5  # <-\n"),
        "items[0].legal_limit_days",
        "valid integer",
    ),
    "stage limits beyond the legal limit": Bad(
        appended(ITEM + "    legal_limit_days: 20\n    stage_limits: {accepted: 5, approved: 16}  # <-\n"),
        "items[0].stage_limits",
        "add up to 21 working days",
    ),
    "unknown stage": Bad(
        appended(ITEM + "    legal_limit_days: 20\n    stage_limits: {acepted: 5}  # <-\n"),
        "items[0].stage_limits.acepted",
        "key 'acepted'",
    ),
    "negative fee": Bad(
        appended(ITEM + "    legal_limit_days: 20\n    fee: '-1'  # <-\n"),
        "items[0].fee",
        "greater than or equal to 0",
    ),
    "malformed YAML": Bad(
        appended("windows: [{code: W01, name: 1号窗口, hall: '510000-ZWFW'}\nstaff: []  # <-\n"),
        "(file)",
        "not valid YAML",
    ),
    "wrong level nesting": Bad(
        replaced(
            '      - code: "510100"\n        name: 成都市\n        level: city\n',
            '      - code: "510104"\n        name: 锦江区\n        level: county  # <-\n',
        ),
        "regions[0].children[0].level",
        "must be a city, not a county",
    ),
    "child code outside its parent": Bad(
        replaced('      - code: "510100"\n', '      - code: "520100"  # <-\n'),
        "regions[0].children[0].code",
        "520100 is not under 510000",
    ),
    "code that does not fit its level": Bad(
        replaced('  - code: "510000"\n', '  - code: "510001"  # <-\n'),
        "regions[0].code",
        "does not fit level province",
    ),
    "unquoted region code": Bad(
        replaced('    region: "510100"\n', "    region: 510100  # <-\n"),
        "halls[1].region",
        'quote it: "510100"',
    ),
    "window in another hall than its department": Bad(
        appended("windows:\n  - {code: W01, name: 1号窗口, hall: '510000-ZWFW', department: CDGA}  # <-\n"),
        "windows[0].department",
        "department CDGA is in hall 510100-ZWFW, the window in 510000-ZWFW",
    ),
    "staff at a window of another hall": Bad(
        appended(
            "windows:\n  - {code: W09, name: 9号窗口, hall: '510100-ZWFW'}\n"
            "staff:\n  - {code: S1, name: 张三, department: SCJGJ, window: W09}  # <-\n"
        ),
        "staff[0].window",
        "no window W09 in hall 510000-ZWFW",
    ),
    "device at a window of another hall": Bad(
        appended(
            "windows:\n  - {code: W09, name: 9号窗口, hall: '510100-ZWFW'}\n"
            "devices:\n  - {code: K1, kind: keypad, name: 评价器, hall: '510000-ZWFW', window: W09}  # <-\n"
        ),
        "devices[0].window",
        "no window W09 in hall 510000-ZWFW",
    ),
    "unknown device kind": Bad(
        appended("devices:\n  - {code: K1, kind: printer, name: 打印机, hall: '510000-ZWFW'}  # <-\n"),
        "devices[0].kind",
        "'camera', 'keypad', 'display' or 'edge'",
    ),
    "hall level that does not fit its region": Bad(
        replaced('    region: "510100"\n', '    region: "510100"\n    level: provincial  # <-\n'),
        "halls[1].level",
        "a hall in a city region is city or sub_centre, not provincial",
    ),
    "unknown rule profile": Bad(
        replaced("    level: province\n", "    level: province\n    rule_profile: beijing-2030  # <-\n"),
        "regions[0].rule_profile",
        "unknown rule profile 'beijing-2030'",
    ),
    "missing required key": Bad(
        appended("staff:\n  - {code: S1, department: SCJGJ}  # <-\n"),
        "staff[0].name",
        "missing required key 'name'",
    ),
    "top-level region under an unknown parent": Bad(
        replaced(
            "halls:\n", '  - {code: "510104", name: 锦江区, level: county, parent: "510199"}  # <-\nhalls:\n'
        ),
        "regions[1].parent",
        "unknown region 510199",
    ),
    "top-level region under a parent of the wrong level": Bad(
        replaced(
            "halls:\n", '  - {code: "510104", name: 锦江区, level: county, parent: "510000"}  # <-\nhalls:\n'
        ),
        "regions[1].parent",
        "a county cannot sit under a province",
    ),
    "alias cycle": Bad(
        "regions: &r [{code: '510000', name: x, level: province, children: *r}]  # <-\n",
        "",
        "nested too deeply",
    ),
    "not a mapping": Bad("- regions  # <-\n", "(file)", "expected a mapping of sections"),
}


@pytest.mark.parametrize("bad", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_file_is_refused_with_place_and_line(session: Session, bad: Bad) -> None:
    with pytest.raises(RegistryImportError) as caught:
        import_registry_text(session, text=bad.text, origin="bad.yaml")

    problems = caught.value.problems
    # A typo also leaves the real key missing; every other bad file has exactly one problem.
    assert len(problems) == (2 if bad.place.endswith(".hal") else 1), problems
    (problem,) = [p for p in problems if p.place == bad.place or not bad.place]
    assert bad.message in problem.message
    assert problem.line == marked_line(bad.text)
    assert set(row_counts(session).values()) == {0}


def test_a_bad_file_changes_nothing_already_stored(session: Session) -> None:
    import_registry_text(session, text=EXAMPLE, origin="v1")
    before = row_counts(session)
    renamed = EXAMPLE.replace("name: 1号窗口", "name: 改名窗口").replace(
        'department: "SCJGJ",\n', 'department: "NOPE",\n'
    )
    with pytest.raises(RegistryImportError):
        import_registry_text(session, text=renamed, origin="v2")
    session.expire_all()
    assert row_counts(session) == before
    assert session.scalars(select(ServiceWindow.name)).one() == "1号窗口"


def test_every_validation_problem_is_reported_at_once(session: Session) -> None:
    text = appended(
        "windows:\n"
        "  - {code: W01, name: 1号窗口, hal: '510000-ZWFW'}\n"
        "items:\n"
        "  - {code: I1, name: a, department: SCJGJ, legal_limit_days: 0}\n"
        "  - {code: I2, name: b, department: SCJGJ, legal_limit_days: 10, promised_limit_days: 11}\n"
        "  - {code: 'bad code', name: c, department: SCJGJ, legal_limit_days: 10}\n"
    )
    with pytest.raises(RegistryImportError) as caught:
        import_registry_text(session, text=text, origin="many.yaml")

    places = [(p.place, p.line) for p in caught.value.problems]
    first = BASE.count("\n") + 1
    assert places == [
        ("windows[0].hall", first + 1),
        ("windows[0].hal", first + 1),
        ("items[0].legal_limit_days", first + 3),
        ("items[1].promised_limit_days", first + 4),
        ("items[2].code", first + 5),
    ]
    assert set(row_counts(session).values()) == {0}


def test_every_reference_problem_is_reported_at_once(session: Session) -> None:
    text = appended(
        "windows:\n"
        "  - {code: W01, name: 1号窗口, hall: NOHALL}\n"
        "  - {code: W02, name: 2号窗口, hall: '510000-ZWFW', department: CDGA}\n"
        "staff:\n"
        "  - {code: S1, name: 张三, department: NODEPT}\n"
        "items:\n"
        "  - {code: I1, name: a, department: SCJGJ, legal_limit_days: 10}\n"
        "  - {code: I1, name: b, department: SCJGJ, legal_limit_days: 10}\n"
    )
    with pytest.raises(RegistryImportError) as caught:
        import_registry_text(session, text=text, origin="refs.yaml")

    assert caught.value.origin == "refs.yaml"
    assert [p.place for p in caught.value.problems] == [
        "windows[0].hall",
        "windows[1].department",
        "staff[0].department",
        "items[1].code",
    ]
    assert set(row_counts(session).values()) == {0}


def test_a_concurrent_writer_is_a_conflict_and_nothing_is_written(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def collide(*args: object, **kwargs: object) -> None:
        session.add(ServiceWindow(code="W01", name="x", hall_id=1))  # half-written work to roll back
        raise IntegrityError("INSERT", {}, Exception("duplicate key value violates unique constraint"))

    monkeypatch.setattr(importer, "write_document", collide)
    with pytest.raises(RegistryConflictError):
        import_registry_text(session, text=EXAMPLE, origin="race.yaml")
    assert not session.new
    assert set(row_counts(session).values()) == {0}


def test_aliases_that_expand_exponentially_are_refused(session: Session) -> None:
    text = "m: &m [a, b, c, d, e, f, g, h, i, j]\n"
    previous = "m"
    for n in range(8):  # 10**9 strings once expanded
        text += f"l{n}: &l{n} [{', '.join([f'*{previous}'] * 10)}]\n"
        previous = f"l{n}"
    with pytest.raises(RegistryImportError) as caught:
        import_registry_text(session, text=text, origin="bomb.yaml")
    assert [p.message for p in caught.value.problems] == ["aliases (*name) expand this file too much"]

"""The ledger query layer (SC-7): each filter narrows, jurisdiction is enforced in SQL (SC-13/14),
rows carry zh labels, the last action and the overdue-investigation flag (SC-9, SZ-13)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.ledger.labels import LedgerKind
from central.ledger.queries import LedgerFilters, count_ledger, iter_ledger, list_ledger
from central.registry.jurisdiction import Jurisdiction, ScopeKind, jurisdiction_of, resolve_scope_code
from central.registry.models import Department
from central.signals.lifecycle import SignalStatus
from central.signals.reasons import Color, Origin
from tests.central.ledger.conftest import TODAY, World, sh

EVERYWHERE = Jurisdiction(ScopeKind.DEPLOYMENT, 0, "*", frozenset(), frozenset(), frozenset())
NEWEST_FIRST = ["K1", "P3", "P2", "P1", "K2"]


def _within(session: Session, code: str) -> Jurisdiction:
    kind, scope_id = resolve_scope_code(session, code)
    return jurisdiction_of(session, kind=kind, scope_id=scope_id)


def _names(session: Session, world: World, filters: LedgerFilters) -> list[str]:
    page = list_ledger(session, filters=filters, today=TODAY, page=1, page_size=100)
    assert page.total == len(page.items)
    return world.names([row.id for row in page.items])


def test_everything_newest_first(session: Session, world: World) -> None:
    assert _names(session, world, LedgerFilters(within=EVERYWHERE)) == NEWEST_FIRST


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"issued_from": date(2026, 11, 10)}, ["K1", "P3", "P2"]),
        ({"issued_to": date(2026, 11, 10)}, ["P2", "P1", "K2"]),  # inclusive, by Shanghai date
        ({"issued_from": date(2026, 11, 2), "issued_to": date(2026, 11, 20)}, ["P3", "P2", "P1"]),
        ({"color": Color.RED}, ["K1", "P2"]),
        ({"color": Color.GREEN}, ["P3"]),
        ({"status": SignalStatus.CORRECTED}, ["K2"]),
        ({"origin": Origin.LIGHT}, ["P2"]),
        ({"reason_code": "unlawful_fees"}, ["K1"]),
        ({"hall_code": "510104-ZWFW"}, ["K1", "K2"]),
        ({"department_code": "SCGAT"}, ["P3"]),
        ({"case_no_prefix": "HW-P"}, ["P2", "P1"]),
        ({"case_no_prefix": "HW-P1"}, ["P1"]),
        ({"case_no_prefix": "HW_%"}, []),  # LIKE wildcards are matched literally
        ({"overdue_investigation": True}, ["P2"]),
        ({"color": Color.RED, "hall_code": "510000-ZWFW"}, ["P2"]),
    ],
)
def test_each_filter_narrows(
    session: Session, world: World, filters: dict[str, Any], expected: list[str]
) -> None:
    assert _names(session, world, LedgerFilters(within=EVERYWHERE, **filters)) == expected


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("region:510104", ["K1", "K2"]),  # a county inspector: its hall only
        ("region:510100", ["K1", "K2"]),  # a city covers its counties
        ("region:510000", NEWEST_FIRST),  # the province covers everything below it
        ("hall:510000-ZWFW", ["P3", "P2", "P1"]),
        ("department:SCGAT", ["P3"]),  # a department post user: its own department only
        ("department:JJSJ", ["K1", "K2"]),
    ],
)
def test_jurisdiction_is_enforced_in_the_query(
    session: Session, world: World, scope: str, expected: list[str]
) -> None:
    within = _within(session, scope)
    assert _names(session, world, LedgerFilters(within=within)) == expected
    # Naming another jurisdiction's hall or department never widens the view.
    for hall in ("510000-ZWFW", "510104-ZWFW"):
        shown = _names(session, world, LedgerFilters(within=within, hall_code=hall))
        assert set(shown) <= set(expected)
    shown = _names(session, world, LedgerFilters(within=within, department_code="SCJGJ"))
    assert set(shown) <= set(expected)


def test_a_region_without_halls_sees_nothing(session: Session, world: World) -> None:
    empty = Jurisdiction(ScopeKind.REGION, 999, "999999", frozenset({999}), frozenset(), frozenset())
    assert _names(session, world, LedgerFilters(within=empty)) == []
    assert count_ledger(session, filters=LedgerFilters(within=empty), today=TODAY) == 0


def test_rows_carry_labels_places_and_last_action(session: Session, world: World) -> None:
    rows = {
        row.id: row
        for row in list_ledger(
            session, filters=LedgerFilters(within=EVERYWHERE), today=TODAY, page=1, page_size=10
        ).items
    }
    p1 = rows[world.ids["P1"]]
    assert p1.kind is LedgerKind.SIGNAL and p1.kind_label == "预警纠错"
    assert (p1.color, p1.color_label) == ("yellow", "黄色纠错")
    assert (p1.reason_code, p1.reason_label) == ("late_decision", "未在法定期限内作出决定")
    assert (p1.origin, p1.origin_label) == ("manual", "人工发出")
    assert (p1.status, p1.status_label) == ("acknowledged", "已签收")
    assert (p1.case_no, p1.hall_name, p1.department_name) == ("HW-P1", "四川省政务服务中心", "省市场监管局")
    assert p1.issued_at == sh(2026, 11, 2) and p1.issued_on == date(2026, 11, 2)
    assert p1.correct_by == date(2026, 11, 3)
    assert (p1.last_action, p1.last_action_label, p1.last_action_at) == (
        "acknowledge",
        "签收",
        sh(2026, 11, 2, 15),
    )
    assert p1.investigation_due is None and not p1.investigation_overdue

    p2 = rows[world.ids["P2"]]
    assert (p2.last_action, p2.last_action_label) == ("investigate", "立案调查")  # the latest of two
    assert p2.escalated_at == sh(2026, 11, 10, 9, 30)

    p3 = rows[world.ids["P3"]]  # no events yet: its issue is its last action
    assert (p3.last_action, p3.last_action_label, p3.last_action_at) == ("issue", "发出", p3.issued_at)
    assert p3.case_no is None and p3.department_name == "省公安厅"

    k1 = rows[world.ids["K1"]]
    assert (k1.finding, k1.finding_label, k1.status_label) == ("fault", "有过错", "已办结")
    assert k1.closed_at == sh(2026, 11, 26, 16)


def test_overdue_means_an_open_investigation_past_its_due_date(session: Session, world: World) -> None:
    def flags(today: date) -> dict[str, bool]:
        page = list_ledger(
            session, filters=LedgerFilters(within=EVERYWHERE), today=today, page=1, page_size=10
        )
        return {
            name: row.investigation_overdue
            for name, row in zip(world.names([r.id for r in page.items]), page.items, strict=True)
        }

    assert flags(TODAY) == {"K1": False, "P3": False, "P2": True, "P1": False, "K2": False}
    # On its due date it is not yet overdue; the reported one (K1) never is.
    assert flags(date(2026, 11, 20))["P2"] is False
    later = flags(date(2026, 12, 31))
    assert later["K2"] is True and later["K1"] is False
    k2 = next(
        iter_ledger(
            session, filters=LedgerFilters(within=EVERYWHERE, status=SignalStatus.CORRECTED), today=TODAY
        )
    )
    assert (k2.investigation_due, k2.investigation_status) == (date(2026, 12, 30), "open")


def test_paging(session: Session, world: World) -> None:
    filters = LedgerFilters(within=EVERYWHERE)
    pages = [list_ledger(session, filters=filters, today=TODAY, page=n, page_size=2) for n in (1, 2, 3, 4)]
    assert [p.total for p in pages] == [5, 5, 5, 5]
    assert [world.names([r.id for r in p.items]) for p in pages] == [["K1", "P3"], ["P2", "P1"], ["K2"], []]


def test_iter_ledger_streams_everything_in_order(session: Session, world: World) -> None:
    filters = LedgerFilters(within=EVERYWHERE)
    rows = list(iter_ledger(session, filters=filters, today=TODAY, chunk_rows=2))
    assert world.names([r.id for r in rows]) == NEWEST_FIRST
    within = _within(session, "department:JJSJ")
    rows = list(iter_ledger(session, filters=LedgerFilters(within=within), today=TODAY, chunk_rows=1))
    assert world.names([r.id for r in rows]) == ["K1", "K2"]


def test_same_time_entries_keep_a_stable_order(session: Session, world: World) -> None:
    """Ties on the issue time are broken by id (newest first), so pages never repeat or skip."""
    from central.signals.models import Signal

    department = session.scalar(select(Department).where(Department.code == "SCGAT"))
    assert department is not None
    for _ in range(3):
        session.add(
            Signal(
                color="green",
                initial_color="green",
                origin="manual",
                reason_code="other_minor",
                hall_id=department.hall_id,
                department_id=department.id,
                status="issued",
                issued_at=sh(2026, 11, 26),
                issued_on=date(2026, 11, 26),
                issued_by="user:x",
                updated_at=sh(2026, 11, 26),
            )
        )
    session.commit()
    filters = LedgerFilters(within=EVERYWHERE, issued_from=date(2026, 11, 26))
    ids = [
        r.id
        for n in (1, 2, 3)
        for r in list_ledger(session, filters=filters, today=TODAY, page=n, page_size=1).items
    ]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 3


def test_describe_names_only_the_filters_that_are_set(session: Session, world: World) -> None:
    filters = LedgerFilters(
        within=_within(session, "region:510104"),
        color=Color.RED,
        issued_from=date(2026, 11, 1),
        overdue_investigation=True,
    )
    assert filters.describe() == {
        "jurisdiction": "510104",
        "issued_from": "2026-11-01",
        "color": "red",
        "overdue_investigation": True,
    }

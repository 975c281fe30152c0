"""The scores benchmark's province: Sichuan's real region tree with a service centre in each region,
departments, windows, staff, items and inspectors, and its open cases, as generated columns.

Everything lives in working-day index space (`Days`): a case's due date is "r working days from
the scored day", so the lights of the open cases, and the signals they raised, follow from the
numbers drawn without a calendar call per case.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import numpy as np

from bench.bulk import NULL, Rows
from central.core.clock import SHANGHAI
from common.worktime import WorkCalendar
from tests.central.patrols.sichuan import sichuan_tree

logger = logging.getLogger(__name__)

# The last day of a month, with a working day before it (overdue follow-ups and investigations count
# on the calendar day after their deadline): the month is whole once it is scored, for its report.
SCORE_DAY = date(2026, 9, 30)  # a Wednesday
AS_OF = datetime(2026, 10, 1, 1, 0, tzinfo=SHANGHAI)  # the daily pass, just after the day ended
PROFILE = "sichuan-2011"
LEGAL_LIMIT = 20
EPOCH = date(1970, 1, 1).toordinal()
OPENS, CLOSES = 9 * 3600, 17 * 3600 + 1800  # a hall's day, in seconds after midnight (Shanghai)
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = list("芳伟娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国红梅")


@dataclass(frozen=True)
class Scale:
    """How big the province is, and how much happens in it on one working day."""

    windows: int = 10_000
    staff: int = 20_000
    open_cases: int = 1_000_000
    items_per_department: int = 12
    closed_per_day: int = 60_000
    ratings_per_day: int = 40_000
    manual_signals_per_day: int = 150
    absences_per_day: int = 150
    patrols_per_day: int = 600  # bench.patrols: the Sichuan plan has 603 patrols a day
    findings_per_day: int = 180
    investigations_per_day: int = 40
    yellow_share: float = 0.04  # of the open cases, yellow as of the scored day
    red_share: float = 0.02

    def small(self) -> Scale:
        """A hundredth of everything (but at least a window per centre): a quick check."""
        return replace(
            self,
            windows=600,
            staff=1_200,
            open_cases=10_000,
            items_per_department=4,
            closed_per_day=600,
            ratings_per_day=400,
            manual_signals_per_day=6,
            absences_per_day=10,
            patrols_per_day=60,
            findings_per_day=20,
            investigations_per_day=4,
        )


class Days:
    """Working days as indices: `ordinal[i]` is the i-th working day of the calendar's covered span
    from `first`; `index(d)` the index of a working day."""

    def __init__(self, calendar: WorkCalendar, first: date, last: date) -> None:
        days = [first + timedelta(n) for n in range((last - first).days + 1)]
        self.ordinal = np.array([d.toordinal() for d in days if calendar.is_workday(d)], dtype=np.int64)

    def index(self, day: date) -> int:
        found = int(np.searchsorted(self.ordinal, day.toordinal()))
        assert self.ordinal[found] == day.toordinal(), f"{day} is not a working day"
        return found

    def at(self, index: np.ndarray) -> np.ndarray:
        """Ordinals of working-day indices; NULL past the covered span (the calendar lacks the year)."""
        inside = (index >= 0) & (index < len(self.ordinal))
        return np.where(inside, self.ordinal[np.clip(index, 0, len(self.ordinal) - 1)], NULL)


def moment(ordinal: np.ndarray | int, seconds: np.ndarray | int) -> np.ndarray:
    """UTC epoch seconds of a Shanghai day (ordinal) and a time of that day (seconds after midnight)."""
    return (
        (np.asarray(ordinal, dtype=np.int64) - EPOCH) * 86400 + np.asarray(seconds, dtype=np.int64) - 8 * 3600
    )


def office_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(OPENS, CLOSES, n)


def names(rng: np.random.Generator, n: int) -> np.ndarray:
    surname = rng.choice(SURNAMES, n)
    given = np.char.add(rng.choice(GIVEN, n), np.where(rng.random(n) < 0.6, rng.choice(GIVEN, n), ""))
    return np.char.add(surname, given).astype(object)


@dataclass
class Registry:
    """The generated registry, as id-indexed arrays (`x_y[i - 1]` is the y of x number i)."""

    region_codes: list[str]
    hall_region: np.ndarray
    dept_hall: np.ndarray
    window_hall: np.ndarray
    window_dept: np.ndarray
    staff_window: np.ndarray  # NULL: back office
    staff_dept: np.ndarray
    item_promised: np.ndarray
    items_per_department: int
    window_staff: np.ndarray  # staff ids ordered by window
    window_staff_start: np.ndarray
    window_staff_count: np.ndarray
    inspectors: int  # user ids 1..inspectors, two per region

    @property
    def halls(self) -> int:
        return len(self.hall_region)

    def staff_at(self, rng: np.random.Generator, window: np.ndarray) -> np.ndarray:
        """One of the staff posted at each window (every window has at least one)."""
        pick = (rng.random(len(window)) * self.window_staff_count[window - 1]).astype(np.int64)
        return self.window_staff[self.window_staff_start[window - 1] + pick]  # type: ignore[no-any-return]

    def item_of(self, rng: np.random.Generator, dept: np.ndarray) -> np.ndarray:
        first = (dept - 1) * self.items_per_department
        return first + rng.integers(1, self.items_per_department + 1, len(dept))


def build_registry(scale: Scale, rng: np.random.Generator) -> tuple[Registry, list[Rows]]:
    """1 province, 21 cities, 183 counties (data/sichuan-regions.yaml), a centre each; the windows
    shared out by the centre's level, each centre's departments holding one window or more; one
    staff member at every window, a second at some, the rest in back offices."""
    tree = sichuan_tree()
    codes = list(tree)  # parents come before children
    region_id = {code: i + 1 for i, code in enumerate(codes)}
    levels = [tree[c].level for c in codes]
    regions, halls = Rows("regions"), Rows("halls")
    regions.add(
        len(codes),
        code=np.array(codes, dtype=object),
        name=np.array([tree[c].name for c in codes], dtype=object),
        level=np.array(levels, dtype=object),
        parent_id=np.array([region_id.get(tree[c].parent or "", NULL) for c in codes]),
        rule_profile=np.array([PROFILE if tree[c].parent is None else None for c in codes], dtype=object),
    )
    hall_level = np.array([{"province": "provincial"}.get(level, level) for level in levels], dtype=object)
    halls.add(
        len(codes),
        code=np.array([f"{c}-ZWFW" for c in codes], dtype=object),
        name=np.array([f"{tree[c].name}政务服务中心" for c in codes], dtype=object),
        region_id=np.arange(1, len(codes) + 1),
        level=hall_level,
    )
    # Windows by the centre's size: the provincial centre 40 shares, a city's 10, a county's 4.
    weight = np.array([{"province": 40, "city": 10}.get(level, 4) for level in levels], dtype=np.float64)
    per_hall = np.maximum(2, np.floor(weight / weight.sum() * scale.windows)).astype(np.int64)
    per_hall[0] += scale.windows - per_hall.sum()
    dept_count = np.minimum(
        np.array([{"province": 40, "city": 30}.get(lv, 20) for lv in levels]), per_hall // 2
    )
    dept_hall = np.repeat(np.arange(1, len(codes) + 1), dept_count)
    dept_first = np.concatenate([[1], np.cumsum(dept_count)[:-1] + 1])
    window_hall = np.repeat(np.arange(1, len(codes) + 1), per_hall)
    # Each department its first window, then the centre's other windows to its departments at random.
    within = np.arange(scale.windows) - np.repeat(np.cumsum(per_hall) - per_hall, per_hall)
    counts = dept_count[window_hall - 1]
    window_dept = dept_first[window_hall - 1] + np.where(
        within < counts, within, (rng.random(scale.windows) * counts).astype(np.int64)
    )
    staff_window = np.full(scale.staff, NULL, dtype=np.int64)
    staff_window[: scale.windows] = rng.permutation(scale.windows) + 1
    second = int((scale.staff - scale.windows) * 0.8)
    staff_window[scale.windows : scale.windows + second] = rng.integers(1, scale.windows + 1, second)
    back_office = scale.staff - scale.windows - second
    staff_dept = np.where(
        staff_window == NULL, 0, window_dept[np.clip(staff_window, 1, None) - 1]
    )  # back office: the department of a window drawn at random (big departments have more)
    staff_dept[staff_window == NULL] = window_dept[rng.integers(0, scale.windows, back_office)]
    posted = np.flatnonzero(staff_window != NULL)
    order = posted[np.argsort(staff_window[posted], kind="stable")]
    window_staff_count = np.bincount(staff_window[posted], minlength=scale.windows + 1)[1:]
    n_depts, k = len(dept_hall), scale.items_per_department
    item_promised = 5 + (np.arange(1, n_depts * k + 1) * 7) % 16  # 5..20 working days
    registry = Registry(
        region_codes=codes,
        hall_region=np.arange(1, len(codes) + 1),
        dept_hall=dept_hall,
        window_hall=window_hall,
        window_dept=window_dept,
        staff_window=staff_window,
        staff_dept=staff_dept,
        item_promised=item_promised,
        items_per_department=k,
        window_staff=order + 1,
        window_staff_start=np.concatenate([[0], np.cumsum(window_staff_count)[:-1]]),
        window_staff_count=window_staff_count,
        inspectors=2 * len(codes),
    )
    return registry, [regions, halls, *_registry_rows(registry, rng)]


def _registry_rows(reg: Registry, rng: np.random.Generator) -> list[Rows]:
    departments, windows, staff, items = Rows("departments"), Rows("windows"), Rows("staff"), Rows("items")
    devices, users = Rows("devices"), Rows("users")
    n_depts, n_windows, n_staff, n_items = (
        len(reg.dept_hall),
        len(reg.window_hall),
        len(reg.staff_dept),
        len(reg.item_promised),
    )
    dept_no = np.arange(1, n_depts + 1) - np.searchsorted(
        reg.dept_hall, reg.dept_hall
    )  # 1.. within the centre
    departments.add(
        n_depts,
        code=np.array([f"D{d:05d}" for d in range(1, n_depts + 1)], dtype=object),
        name=np.array(
            [
                f"{reg.region_codes[h - 1]}部门{n:02d}"
                for h, n in zip(reg.dept_hall.tolist(), dept_no.tolist(), strict=True)
            ],
            dtype=object,
        ),
        hall_id=reg.dept_hall,
    )
    window_no = np.arange(1, n_windows + 1) - np.searchsorted(reg.window_hall, reg.window_hall)
    windows.add(
        n_windows,
        code=np.array([f"W{n:03d}" for n in window_no.tolist()], dtype=object),
        name=np.array([f"{n}号窗口" for n in window_no.tolist()], dtype=object),
        hall_id=reg.window_hall,
        department_id=reg.window_dept,
    )
    staff.add(
        n_staff,
        code=np.array([f"S{s:06d}" for s in range(1, n_staff + 1)], dtype=object),
        name=names(rng, n_staff),
        department_id=reg.staff_dept,
        window_id=reg.staff_window,
        active=np.ones(n_staff, dtype=bool),
    )
    items.add(
        n_items,
        code=np.array([f"I{i:07d}" for i in range(1, n_items + 1)], dtype=object),
        name=np.array([f"事项{i}" for i in range(1, n_items + 1)], dtype=object),
        department_id=np.repeat(np.arange(1, n_depts + 1), reg.items_per_department),
        legal_limit_days=LEGAL_LIMIT,
        promised_limit_days=reg.item_promised,
        fee="0.00",
    )
    devices.add(  # one edge agent per centre: what reports its absences
        reg.halls,
        code=np.array([f"EDGE-{c}" for c in reg.region_codes], dtype=object),
        kind="edge",
        name="边缘主机",
        hall_id=np.arange(1, reg.halls + 1),
    )
    created = moment(date(2026, 1, 5).toordinal(), OPENS)
    users.add(  # two inspectors per region: they patrol and open investigations
        reg.inspectors,
        username=np.array([f"i{c}{s}" for c in reg.region_codes for s in "ab"], dtype=object),
        display_name=np.array([f"监察员{c}{s}" for c in reg.region_codes for s in "ab"], dtype=object),
        password_hash="x",
        role="inspector",
        scope_kind="region",
        scope_id=np.repeat(reg.hall_region, 2),
        active=np.ones(reg.inspectors, dtype=bool),
        failed_logins=0,
        created_at=created,
        confirmed_at=created,
    )
    return [departments, windows, staff, items, devices, users]


@dataclass
class OpenCases:
    """The open cases' columns the day generators need: who handles them and when they fall due."""

    ids: np.ndarray
    hall: np.ndarray
    dept: np.ndarray
    due: np.ndarray  # working-day index of the promised due date (before the scored day: red)
    accepted: np.ndarray  # working-day index
    paused: np.ndarray


def case_people(reg: Registry, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Where n cases are handled: a window drawn at random (busy centres have more), one of its
    staff, an item of its department."""
    window = rng.integers(1, len(reg.window_hall) + 1, n)
    dept = reg.window_dept[window - 1]
    item = reg.item_of(rng, dept)
    return {
        "item_id": item,
        "hall_id": reg.window_hall[window - 1],
        "department_id": dept,
        "window_id": window,
        "staff_id": reg.staff_at(rng, window),
        "promised_limit_days": reg.item_promised[item - 1],
        "legal_limit_days": np.full(n, LEGAL_LIMIT),
    }


def open_cases(
    reg: Registry, scale: Scale, days: Days, day: int, rng: np.random.Generator, rows: Rows
) -> OpenCases:
    """`scale.open_cases` cases open at the end of working day `day` (an index), by their light then:
    green (more than 3 working days left), yellow (0–3 left) and red (overdue, mostly by a few days).
    5 % of the green ones are paused (suspended or awaiting correction) with their days frozen."""
    n = scale.open_cases
    people = case_people(reg, rng, n)
    limit = people["promised_limit_days"]
    extension = np.where(rng.random(n) < 0.02, rng.integers(1, 11, n), 0)
    total = limit + extension
    roll = rng.random(n)
    red = roll < scale.red_share
    yellow = ~red & (roll < scale.red_share + scale.yellow_share)
    remaining = np.where(
        red,
        -np.minimum(rng.geometric(0.2, n), 20),
        np.where(
            yellow, rng.integers(0, 4, n), 4 + (rng.random(n) * np.maximum(total - 3, 1)).astype(np.int64)
        ),
    )
    remaining = np.minimum(remaining, total)  # never accepted after the day
    due = day + remaining
    accepted = due - total
    paused = ~red & ~yellow & (rng.random(n) < 0.05)
    since = np.where(paused, np.maximum(accepted, day - rng.integers(0, 5, n)), NULL)
    status = np.where(
        paused,
        rng.choice(["suspended", "awaiting_correction"], n),
        rng.choice(["accepted", "undertaken", "reviewed", "approved"], n, p=[0.3, 0.35, 0.25, 0.1]),
    ).astype(object)
    legal_due = days.at(accepted + LEGAL_LIMIT + extension)
    received = days.at(accepted)
    ids = rows.add(
        n,
        case_no=np.array([f"SC{i:010d}" for i in range(rows.next_id, rows.next_id + n)], dtype=object),
        **people,
        status=status,
        received_at=moment(received, OPENS + rng.integers(0, 7200, n)),
        accepted_on=received,
        closed_on=NULL,
        extension_days=extension,
        promised_due_date=days.at(due),
        legal_due_date=legal_due,
        paused_since=np.where(paused, days.at(since), NULL),
        paused_remaining_promised=np.where(paused, due - since, NULL),
        paused_remaining_legal=np.where(paused, accepted + LEGAL_LIMIT + extension - since, NULL),
        calendar_missing=legal_due == NULL,
        last_event_at=moment(days.at(np.where(paused, since, np.maximum(accepted, day - 3))), OPENS + 3600),
        event_count=2 + paused.astype(np.int64) + (extension > 0),
    )
    logger.info(
        "open cases: %d green (%d paused), %d yellow, %d red",
        (~red & ~yellow).sum(),
        paused.sum(),
        yellow.sum(),
        red.sum(),
    )
    return OpenCases(ids, people["hall_id"], people["department_id"], due, accepted, paused)

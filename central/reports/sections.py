"""The report's sections from the gathered facts, for one scope: each fact whose hall lies in the scope
is summed per department (of a hall) and in total. Totals are always over every row; long tables are
cut to their first `DEPARTMENT_ROWS` (most cases, most signals, …) with the rest counted as omitted."""

from __future__ import annotations

import logging
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TypeVar

from central.patrols.findings_kinds import CATEGORY_LABELS
from central.registry.jurisdiction import Jurisdiction, ScopeKind
from central.reports.facts import Count, Facts, in_scope
from central.reports.schemas import (
    AbsenceRow,
    AbsencesSection,
    FindingRow,
    InvestigationsSection,
    LightRow,
    LightsSection,
    PatrolBodyRow,
    PatrolsSection,
    RatingRow,
    RatingsSection,
    SignalRow,
    SignalsSection,
    VolumeRow,
    VolumeSection,
)
from central.video.labels import AbsenceStatus

logger = logging.getLogger(__name__)

DEPARTMENT_ROWS = 60
ITEM_ROWS = 30
TOTAL = "合计"
NO_DEPARTMENT = "（未关联部门）"
Unit = tuple[int, int | None]  # (hall id, department id)
R = TypeVar("R")


def rate(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _cut(rows: list[R], limit: int, key: Callable[[R], tuple[object, ...]]) -> tuple[list[R], int]:
    rows.sort(key=key)
    return rows[:limit], max(0, len(rows) - limit)


class Labeller:
    """Codes and names of a scope's departments (of halls), and which facts lie in the scope."""

    def __init__(self, facts: Facts, scope: Jurisdiction) -> None:
        self.facts, self.scope, self.names = facts, scope, facts.names

    def inside(self, hall_id: int | None) -> bool:
        return in_scope(self.scope, hall_id)

    def unit(self, unit: Unit) -> dict[str, str | None]:
        hall_id, department_id = unit
        hall_code = self.names.halls.get(hall_id, ("?", "?"))[0]
        if department_id is None or department_id not in self.names.departments:
            return {"code": None, "name": NO_DEPARTMENT, "hall_code": hall_code}
        code, name, _hall = self.names.departments[department_id]
        return {"code": code, "name": name, "hall_code": hall_code}

    def counts(self, counts: Iterable[Count]) -> dict[Unit, dict[str, int]]:
        found: dict[Unit, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for count in counts:
            if self.inside(count.hall_id):
                found[(count.hall_id, count.department_id)][count.kind] += count.n
        return found


def volume(lab: Labeller) -> VolumeSection:
    fields = ("received", "accepted", "closed", "open_at_end", "decided", "on_time")
    by_unit: dict[Unit, dict[str, int]] = defaultdict(lambda: dict.fromkeys(fields, 0))
    by_item: dict[tuple[int, int, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(fields, 0))
    for fact in lab.facts.cases:
        if not lab.inside(fact.hall_id):
            continue
        for target in (
            by_unit[(fact.hall_id, fact.department_id)],
            by_item[(fact.item_id, fact.hall_id, fact.department_id)],
        ):
            for name in fields:
                target[name] += getattr(fact, name)

    def row(sums: dict[str, int], **label: str | None) -> VolumeRow:
        return VolumeRow(**label, **sums, on_time_rate=rate(sums["on_time"], sums["decided"]))

    totals = {name: sum(s[name] for s in by_unit.values()) for name in fields}
    departments, departments_omitted = _cut(
        [row(sums, **lab.unit(unit)) for unit, sums in by_unit.items()],
        DEPARTMENT_ROWS,
        lambda r: (-r.received, -r.open_at_end, r.hall_code or "", r.code or ""),
    )
    items = []
    for (item_id, hall_id, department_id), sums in by_item.items():
        code, name = lab.names.items.get(item_id, ("?", "?"))
        unit = lab.unit((hall_id, department_id))
        items.append(
            row(sums, code=code, name=name, hall_code=unit["hall_code"], department_name=unit["name"])
        )
    items, items_omitted = _cut(items, ITEM_ROWS, lambda r: (-r.received, -r.open_at_end, r.code or ""))
    return VolumeSection(
        total=row(totals, code=None, name=TOTAL),
        by_department=departments,
        departments_omitted=departments_omitted,
        by_item=items,
        items_omitted=items_omitted,
    )


def lights(lab: Labeller) -> LightsSection:
    by_unit: dict[Unit, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for fact in lab.facts.cases:
        if fact.light != "" and lab.inside(fact.hall_id):
            by_unit[(fact.hall_id, fact.department_id)][fact.light or "unknown"] += fact.open_at_end

    def row(counts: dict[str, int], **label: str | None) -> LightRow:
        return LightRow(
            **label,
            green=counts.get("green", 0),
            yellow=counts.get("yellow", 0),
            red=counts.get("red", 0),
            unknown=counts.get("unknown", 0),
        )

    total: dict[str, int] = defaultdict(int)
    for counts in by_unit.values():
        for light, n in counts.items():
            total[light] += n
    rows, omitted = _cut(
        [row(counts, **lab.unit(unit)) for unit, counts in by_unit.items()],
        DEPARTMENT_ROWS,
        lambda r: (-r.red, -r.yellow, -r.green, r.hall_code or "", r.code or ""),
    )
    return LightsSection(
        as_of=lab.facts.until,
        total=row(total, code=None, name=TOTAL),
        by_department=rows,
        departments_omitted=omitted,
    )


def red_signals(lab: Labeller) -> dict[Unit, int]:
    """Red signals of the month per department: raised red, or escalated (turned red) in the month
    after being raised yellow or green."""
    found: dict[Unit, int] = defaultdict(int)
    for unit, colours in lab.counts(lab.facts.raised).items():
        found[unit] += colours.get("red", 0)
    for unit, colours in lab.counts(lab.facts.escalated).items():
        found[unit] += sum(n for colour, n in colours.items() if colour != "red")
    return found


def signals(lab: Labeller) -> SignalsSection:
    raised = lab.counts(lab.facts.raised)
    escalated = lab.counts(lab.facts.escalated)
    hours: dict[Unit, list[float]] = defaultdict(list)
    for correction in lab.facts.corrections:
        if lab.inside(correction.hall_id):
            hours[(correction.hall_id, correction.department_id)].append(correction.hours)

    def row(colours: dict[str, int], up: int, taken: list[float], **label: str | None) -> SignalRow:
        return SignalRow(
            **label,
            raised=sum(colours.values()),
            raised_green=colours.get("green", 0),
            raised_yellow=colours.get("yellow", 0),
            raised_red=colours.get("red", 0),
            corrected=len(taken),
            escalated=up,
            mean_hours_to_correction=round(statistics.fmean(taken), 1) if taken else None,
            median_hours_to_correction=round(statistics.median(taken), 1) if taken else None,
        )

    units = set(raised) | set(escalated) | set(hours)
    all_colours: dict[str, int] = defaultdict(int)
    for colours in raised.values():
        for colour, n in colours.items():
            all_colours[colour] += n
    total = row(
        all_colours,
        sum(sum(c.values()) for c in escalated.values()),
        [h for taken in hours.values() for h in taken],
        code=None,
        name=TOTAL,
    )
    rows, omitted = _cut(
        [
            row(raised.get(u, {}), sum(escalated.get(u, {}).values()), hours.get(u, []), **lab.unit(u))
            for u in units
        ],
        DEPARTMENT_ROWS,
        lambda r: (-r.raised_red, -r.raised, -r.escalated, r.hall_code or "", r.code or ""),
    )
    return SignalsSection(total=total, by_department=rows, departments_omitted=omitted)


def investigations(lab: Labeller) -> InvestigationsSection:
    facts = [f for f in lab.facts.investigations if lab.inside(f.hall_id)]
    reported = sum(f.reported for f in facts)
    on_time = sum(f.on_time for f in facts)
    return InvestigationsSection(
        assigned=sum(f.assigned for f in facts),
        reported=reported,
        reported_on_time=on_time,
        reported_late=reported - on_time,
        open_past_due=sum(f.open_past_due for f in facts),
        open_within_due=sum(f.open_within_due for f in facts),
        on_time_rate=rate(on_time, reported),
    )


def ratings(lab: Labeller) -> RatingsSection:
    rows = [
        RatingRow(
            code=r.key,
            name=r.label,
            hall_code=r.hall_code,
            count=r.count,
            weight=r.weight,
            satisfaction_rate=r.satisfaction_rate,
            bad_count=r.bad_count,
            followups=r.followups,
            called_back=r.called_back,
            rectified=r.rectified,
            callback_rate=r.callback_rate,
            rectified_rate=r.rectified_rate,
        )
        for r in lab.facts.ratings
        if lab.inside(lab.names.hall_ids.get(r.hall_code or ""))
    ]
    weight = sum(r.weight for r in rows)
    good = sum((r.satisfaction_rate or 0.0) * r.weight for r in rows)
    followups = sum(r.followups for r in rows)
    called_back = sum(r.called_back for r in rows)
    rectified = sum(r.rectified for r in rows)
    total = RatingRow(
        code=None,
        name=TOTAL,
        count=sum(r.count for r in rows),
        weight=round(weight, 6),
        satisfaction_rate=rate(good, weight),
        bad_count=sum(r.bad_count for r in rows),
        followups=followups,
        called_back=called_back,
        rectified=rectified,
        callback_rate=rate(called_back, followups),
        rectified_rate=rate(rectified, followups),
    )
    for r in rows:  # the ratings' own figures keep 6 places; the report shows 4 like its other rates
        r.satisfaction_rate = None if r.satisfaction_rate is None else round(r.satisfaction_rate, 4)
        r.callback_rate = None if r.callback_rate is None else round(r.callback_rate, 4)
        r.rectified_rate = None if r.rectified_rate is None else round(r.rectified_rate, 4)
    cut, omitted = _cut(
        rows, DEPARTMENT_ROWS, lambda r: (-r.count, -r.bad_count, r.hall_code or "", r.code or "")
    )
    return RatingsSection(total=total, by_department=cut, departments_omitted=omitted)


def absences(lab: Labeller) -> AbsencesSection:
    by_unit = lab.counts(lab.facts.absences)

    def row(statuses: dict[str, int], **label: str | None) -> AbsenceRow:
        return AbsenceRow(
            **label,
            confirmed=statuses.get(AbsenceStatus.CONFIRMED.value, 0),
            dismissed=statuses.get(AbsenceStatus.DISMISSED.value, 0),
            pending=statuses.get(AbsenceStatus.PENDING.value, 0),
            total=sum(statuses.values()),
        )

    total: dict[str, int] = defaultdict(int)
    for statuses in by_unit.values():
        for status, n in statuses.items():
            total[status] += n
    rows, omitted = _cut(
        [row(s, **lab.unit(u)) for u, s in by_unit.items()],
        DEPARTMENT_ROWS,
        lambda r: (-r.confirmed, -r.total, r.hall_code or "", r.code or ""),
    )
    return AbsencesSection(
        total=row(total, code=None, name=TOTAL), by_department=rows, departments_omitted=omitted
    )


def patrols(lab: Labeller) -> PatrolsSection:
    regions = lab.names.regions
    bodies = [
        PatrolBodyRow(
            code=b.code,
            name=b.name,
            level=b.level,
            required=b.required,
            done=b.done,
            rate=b.rate,
            short_days=len(b.short_days),
        )
        for b in lab.facts.bodies
        if lab.scope.kind is ScopeKind.DEPLOYMENT or regions.get(b.code) in lab.scope.region_ids
    ]
    found: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for count in lab.facts.findings:
        if lab.inside(count.hall_id):
            category, _, status = count.kind.partition("/")
            found[category][status] += count.n
    findings = [
        FindingRow(
            category=category,
            label=CATEGORY_LABELS.get(category, category),
            total=sum(statuses.values()),
            confirmed=statuses.get("confirmed", 0),
            dismissed=statuses.get("dismissed", 0),
            pending=statuses.get("pending", 0),
        )
        for category, statuses in found.items()
    ]
    findings.sort(key=lambda f: (-f.total, f.category))
    required = sum(b.required for b in bodies)
    done = sum(b.done for b in bodies)
    return PatrolsSection(
        required=required,
        done=done,
        rate=rate(done, required),
        bodies=bodies,
        findings_total=sum(f.total for f in findings),
        findings=findings,
    )


__all__ = ["Labeller", "rate", "red_signals"]

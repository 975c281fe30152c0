"""Each anomaly rule explained in zh-CN: its name, what it looks for with the profile's own figures,
and one line per hit from its evidence. Codes stay English; only people read these."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from common.profiles.supervision import AnomalyRules

logger = logging.getLogger(__name__)

RULE_CODES = (
    "item_pace",
    "due_date_bunching",
    "pause_before_due",
    "outside_hours",
    "unseen_acceptance",
    "idle_department",
)
LABELS = {
    "item_pace": "事项办理时长异常",
    "due_date_bunching": "到期日集中办结",
    "pause_before_due": "临近到期暂停计时",
    "outside_hours": "工作时间外受理",
    "unseen_acceptance": "窗口无人时受理",
    "idle_department": "窗口有人值守却无办件",
}
STATUS_LABELS = {"open": "待处理", "signalled": "已转纠错信号", "dismissed": "已排除"}
EVENT_LABELS = {"suspended": "暂停计时（特别程序）", "correction_requested": "要求补正"}
_BASIS = {"promised": "承诺办结日", "legal": "法定办结日"}


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def explanations(rules: AnomalyRules, *, working_hours: list[str]) -> dict[str, str]:
    """What each rule looks for and why, with the profile's figures."""
    pace, bunch, pause = rules.item_pace, rules.due_date_bunching, rules.pause_before_due
    hours, unseen, idle = rules.outside_hours, rules.unseen_acceptance, rules.idle_department
    return {
        "item_pace": (
            f"同一事项某月办结件的平均办理时长（受理至办结，按工作日计）不超过其前 {pace.history_months} 个月"
            f"平均值的 {_pct(pace.fast_ratio)}，或达到其 {pace.slow_ratio:g} 倍以上，且相差至少 "
            f"{pace.min_difference_workdays:g} 个工作日（当月至少 {pace.min_cases} 件、历史至少 "
            f"{pace.min_history_cases} 件）。过快可能是补录、虚拟办件，过慢是效率低下（SC-6(2)）。"
        ),
        "due_date_bunching": (
            f"某部门某月办结件中，在到期日当天办结的占 {_pct(bunch.max_share)} 以上（至少 {bunch.min_cases} 件）。"
            "正常办理的办结日应分散；集中在到期日，常见于压线补录或为避免亮灯而集中办结。"
        ),
        "pause_before_due": (
            f"办件在剩余不超过 {pause.within_workdays} 个工作日时开始暂停计时或要求补正（按当时的计时计算，"
            "含延期与此前的暂停）。临到期才暂停，可能是为阻止即将亮红灯而停钟（LAW 第 32、45 条）。"
        ),
        "outside_hours": (
            f"受理时间不在工作时间（{'、'.join(working_hours)}，前后各宽限 {hours.grace_minutes} 分钟）内"
            + ("，或在休息日、节假日" if hours.days_off else "")
            + "。按部门、按日汇总。窗口关闭时的受理多为事后补录。"
        ),
        "unseen_acceptance": (
            "办件由某窗口受理，而该窗口摄像机在受理所在的整点小时内未计到任何来访"
            f"（客户座位占用不超过 {unseen.max_seated_seconds:g} 秒）：没有申请人在场却有受理，"
            "疑为虚拟办件（QTH 第二部分）。摄像机未上报的小时不作判断。"
        ),
        "idle_department": (
            f"部门连续 {idle.min_workdays} 个以上工作日，窗口工作人员在岗（每日至少 "
            f"{idle.min_staffed_minutes} 分钟），却没有受理任何办件：疑为体外循环或选择性录入。"
        ),
    }


def enabled(rules: AnomalyRules) -> dict[str, bool]:
    return {code: bool(getattr(rules, code).enabled) for code in RULE_CODES}


@dataclass(frozen=True)
class Names:
    """Display names of what hits refer to, looked up once per page."""

    departments: dict[int, str]
    items: dict[int, str]
    windows: dict[int, str]

    def department(self, department_id: int | None) -> str:
        return self.departments.get(department_id, "—") if department_id is not None else "—"


def _pace(evidence: dict[str, Any], item: str) -> str:
    word = "偏快" if evidence["direction"] == "faster" else "偏慢"
    return (
        f"{item} {evidence['month']} 办结 {evidence['cases']} 件，平均 {evidence['mean_workdays']:g} 个工作日，"
        f"前 {evidence['history_months']} 个月 {evidence['history_cases']} 件平均 "
        f"{evidence['history_mean_workdays']:g} 个工作日（{word}）"
    )


def _bunch(evidence: dict[str, Any], _item: str) -> str:
    return (
        f"{evidence['month']} 办结 {evidence['completed']} 件，其中 {evidence['on_due_date']} 件在"
        f"{_BASIS.get(evidence['due_basis'], '到期日')}当天办结（{_pct(evidence['share'])}）"
    )


def _pause(evidence: dict[str, Any], _item: str) -> str:
    what = EVENT_LABELS.get(evidence["event"], evidence["event"])
    return f"办件 {evidence['case_no']} 在剩余 {evidence['remaining_workdays']} 个工作日时{what}"


def _listed(evidence: dict[str, Any]) -> str:
    shown = "、".join(f"{c['case_no']}（{c['time']}）" for c in evidence["listed"][:3])
    more = f"等 {evidence['cases']} 件" if evidence["cases"] > 3 else ""
    return f"{shown}{more}"


def _outside(evidence: dict[str, Any], _item: str) -> str:
    when = evidence["day"] + ("" if evidence["workday"] else "（休息日）")
    return f"{when} 工作时间外受理 {evidence['cases']} 件：{_listed(evidence)}"


def _unseen(evidence: dict[str, Any], _item: str) -> str:
    return f"{evidence['day']} 摄像机未计到来访的时段受理 {evidence['cases']} 件：{_listed(evidence)}"


def _idle(evidence: dict[str, Any], _item: str) -> str:
    return (
        f"{evidence['first']} 至 {evidence['last']} 连续 {evidence['workdays']} 个工作日窗口在岗"
        f"（共 {evidence['staffed_hours']:g} 小时）却无办件"
    )


_SUMMARIES: dict[str, Callable[[dict[str, Any], str], str]] = {
    "item_pace": _pace,
    "due_date_bunching": _bunch,
    "pause_before_due": _pause,
    "outside_hours": _outside,
    "unseen_acceptance": _unseen,
    "idle_department": _idle,
}


def summary(rule: str, evidence: dict[str, Any], *, item_name: str = "") -> str:
    """One zh-CN line for a hit; an evidence shape this version does not know shows as its rule."""
    try:
        return _SUMMARIES[rule](evidence, item_name or "该事项")
    except (KeyError, TypeError, ValueError):
        logger.warning("cannot summarise a %s hit from %s", rule, evidence)
        return LABELS.get(rule, rule)

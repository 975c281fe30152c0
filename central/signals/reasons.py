"""Why a signal is raised: the SZ-10/11/12 lists as codes with their colour and a zh-CN label."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Color(StrEnum):
    GREEN = "green"  # 绿色预警 (SZ-10)
    YELLOW = "yellow"  # 黄色纠错 (SZ-11)
    RED = "red"  # 红色纠错 (SZ-12, or a yellow not corrected in time)


class Origin(StrEnum):
    LIGHT = "light"  # a case's yellow or red light (QTH-2)
    DUE_DATE = "due_date"  # the green warning on the due date (SZ-10)
    MANUAL = "manual"  # raised by an inspector with a reason and evidence
    FOLLOWUP = "followup"  # a 差评 not rectified by its deadline (HCP; central.ratings.overdue)
    VIDEO = "video"  # an absence (离岗) the cameras saw and an inspector confirmed (central.video.review)
    PATROL = "patrol"  # a video patrol's finding, confirmed on review (central.patrols.review)
    COMPLAINT = "complaint"  # a complaint not decided within its working days (central.complaints.jobs)
    SAMPLING = "sampling"  # a sampled case reviewed as non-compliant (central.sampling, SC-6(4))
    DATA = "data"  # an anomaly rule's hit an inspector turned into a signal (central.anomalies, SC-6(2))
    DUAL_TRACK = "dual_track"  # more visitors counted than cases recorded, day after day (central.dualtrack)


@dataclass(frozen=True)
class Reason:
    code: str
    color: Color
    label: str
    rule: str
    manual: bool = True  # an inspector may pick it by hand


_REASONS = [
    Reason("due_date", Color.GREEN, "办件到期提醒", "SZ-10", manual=False),
    Reason("light_yellow", Color.YELLOW, "临近办理时限（黄灯）", "QTH-2", manual=False),
    Reason("light_red", Color.RED, "超过办理时限（红灯）", "QTH-2", manual=False),
    Reason("followup_overdue", Color.YELLOW, "差评整改超期", "HCP", manual=False),
    # SZ-14: an online complaint is accepted or refused within 5 working days; raised by the signal
    # pass for each one still undecided after its last day.
    Reason("complaint_overdue", Color.YELLOW, "投诉逾期未作受理决定", "SZ-14", manual=False),
    # Work discipline seen on video (SC-6.1): one of SZ-11's "other minor violations", so yellow,
    # turning red if not corrected in time; raised only by confirming a camera-reported absence.
    Reason("staff_absent", Color.YELLOW, "工作时间擅离岗位", "SC-6.1", manual=False),
    # The same for what an inspector saw on a patrol (SC-6.1: 工作纪律、服务态度), raised only by
    # confirming the patrol's finding; attitude is its own reason, as the scoring weighs it apart.
    Reason("patrol_discipline", Color.YELLOW, "视频巡查发现违反工作纪律", "SC-6.1", manual=False),
    Reason("patrol_attitude", Color.YELLOW, "视频巡查发现服务态度问题", "SC-6.1", manual=False),
    # What data supervision's rules found (SC-6(2)), raised only from a hit an inspector judged real:
    # SZ-11's "other minor violations" read for data, so yellow, turning red if not corrected.
    Reason("data_anomaly", Color.YELLOW, "数据监察发现异常", "SC-6.2", manual=False),
    # Cases handled off the system (双轨运行, RULES "What the seeds say goes wrong"): a suspicion from
    # the cameras' visitor counts against the cases recorded, for an inspector to verify; computed only.
    Reason("dual_track", Color.YELLOW, "疑似体外循环", "QTH part 2", manual=False),
    # SZ-11: yellow, turning red if not corrected within the profile's working days.
    Reason("refused_lawful_acceptance", Color.YELLOW, "对符合条件的申请不予受理", "SZ-11"),
    Reason("late_decision", Color.YELLOW, "未在法定期限内作出决定", "SZ-11"),
    Reason("late_forwarding", Color.YELLOW, "初审机关未按期上报", "SZ-11"),
    Reason("unpublished_information", Color.YELLOW, "未公示应当公示的内容", "SZ-11"),
    Reason("corrections_not_told_at_once", Color.YELLOW, "未一次性告知需补正的全部内容", "SZ-11"),
    Reason("refusal_without_reasons", Color.YELLOW, "不予许可未说明理由", "SZ-11"),
    Reason("no_application_form", Color.YELLOW, "未提供申请书格式文本", "SZ-11"),
    Reason("results_not_published", Color.YELLOW, "未公开许可结果", "SZ-11"),
    Reason("certificate_not_issued", Color.YELLOW, "未依法颁发许可证件", "SZ-11"),
    Reason("other_minor", Color.YELLOW, "其他一般违规行为", "SZ-11"),
    # SZ-12: red directly.
    Reason("abolished_item", Color.RED, "实施已取消的审批项目", "SZ-12"),
    Reason("abolished_legal_item", Color.RED, "擅自取消法定审批项目", "SZ-12"),
    Reason("changed_procedure", Color.RED, "擅自改变公布的程序或条件", "SZ-12"),
    Reason("refused_lawful_application", Color.RED, "对符合条件的申请不予许可", "SZ-12"),
    Reason("unlawful_approval", Color.RED, "违法或越权准予许可", "SZ-12"),
    Reason("ignored_required_procedure", Color.RED, "未依法听证、招标、拍卖、考试或检验", "SZ-12"),
    Reason("changed_effective_approval", Color.RED, "擅自变更已生效的许可", "SZ-12"),
    Reason("unlawful_fees", Color.RED, "违法收费或收取保证金", "SZ-12"),
    Reason("other_serious", Color.RED, "其他严重违规行为", "SZ-12"),
]
REASONS: dict[str, Reason] = {reason.code: reason for reason in _REASONS}
MANUAL_REASONS = [reason for reason in _REASONS if reason.manual]

"""The monthly report's charts (matplotlib, Agg): case volume by department, the lights at the month's
end, and satisfaction by department — as inline SVG for the page and as PNG for the PDF, drawn from
the report's own figures (`MonthlyReportData`), so the charts show the numbers the tables do.

Department names are Chinese, so matplotlib needs a CJK font: Debian's fonts-noto-cjk (`make browser`
installs it), found through matplotlib's font manager; without one the charts are refused with a
message saying what to install, rather than drawn as empty boxes.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Any, Literal

from central.ratings.chart import inline_svg
from central.reports.schemas import MonthlyReportData

logger = logging.getLogger(__name__)

Format = Literal["svg", "png"]
MAX_BARS = 12
PNG_DPI = 150
COLORS = {"received": "#9fb8d6", "closed": "#1b4f8a", "open": "#e0a33a"}
LIGHT_COLORS = {"green": "#2e7d32", "yellow": "#f2b600", "red": "#c5221f", "unknown": "#9e9e9e"}
PREFERRED_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Sans CJK KR")


class ChartFontMissing(RuntimeError):
    """No CJK font that matplotlib can use."""


@dataclass(frozen=True)
class Chart:
    name: str  # volume | lights | ratings
    title: str  # zh-CN
    svg: str | None = None  # the inline <svg> element (page)
    png: bytes | None = None  # (PDF)


def cjk_font() -> str:
    """The family name of an installed CJK font matplotlib knows (a font installed after matplotlib
    built its font cache is added from the system's font folders)."""
    from matplotlib import font_manager

    def known() -> str | None:
        names = {font.name for font in font_manager.fontManager.ttflist}
        return next((name for name in PREFERRED_FONTS if name in names), None)

    found = known()
    if found is None:
        for path in font_manager.findSystemFonts():
            if "NotoSansCJK" in path or "NotoSansSC" in path:
                font_manager.fontManager.addfont(path)
        found = known()
    if found is None:
        raise ChartFontMissing(
            "matplotlib found no CJK font (Noto Sans CJK) for the report's charts: install Debian's "
            "fonts-noto-cjk (`make browser` does: apt-get install fonts-noto-cjk)"
        )
    return found


def _short(name: str, limit: int = 14) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _save(figure: Any, fmt: Format, *, name: str, title: str) -> Chart:
    figure.tight_layout()
    if fmt == "png":
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
        return Chart(name, title, png=buffer.getvalue())
    text = io.StringIO()
    figure.savefig(text, format="svg", metadata={"Date": None, "Creator": None})
    return Chart(name, title, svg=inline_svg(text.getvalue(), label=title))


def _volume(data: MonthlyReportData, fmt: Format) -> Chart:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rows = data.volume.by_department[:MAX_BARS][::-1]  # the largest at the top
    figure = Figure(figsize=(8, 1.2 + 0.32 * max(len(rows), 1)))
    axes = figure.add_subplot()
    ys = list(range(len(rows)))
    height = 0.27
    for offset, key, label in (
        (height, "received", "受理"),
        (0.0, "closed", "办结"),
        (-height, "open", "月末在办"),
    ):
        values = [
            r.received if key == "received" else r.closed if key == "closed" else r.open_at_end for r in rows
        ]
        axes.barh([y + offset for y in ys], values, height=height, color=COLORS[key], label=label)
    axes.set_yticks(
        ys, [f"{_short(r.name)}（{r.hall_code}）" if r.hall_code else _short(r.name) for r in rows]
    )
    axes.set_xlabel("件")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(loc="lower right", fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return _save(figure, fmt, name="volume", title="各部门办件量")


def _lights(data: MonthlyReportData, fmt: Format) -> Chart:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    total = data.lights.total
    labels = ["绿灯", "黄灯", "红灯", "无期限"]
    values = [total.green, total.yellow, total.red, total.unknown]
    figure = Figure(figsize=(8, 2.2))
    axes = figure.add_subplot()
    bars = axes.barh(
        labels[::-1], values[::-1], color=[LIGHT_COLORS[k] for k in ("unknown", "red", "yellow", "green")]
    )
    axes.bar_label(bars, padding=3, fontsize=8)
    axes.set_xlabel("月末在办件数")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.spines[["top", "right"]].set_visible(False)
    return _save(figure, fmt, name="lights", title="月末在办件亮灯情况")


def _ratings(data: MonthlyReportData, fmt: Format) -> Chart:
    from matplotlib.figure import Figure

    rows = [r for r in data.ratings.by_department if r.satisfaction_rate is not None][:MAX_BARS][::-1]
    figure = Figure(figsize=(8, 1.2 + 0.3 * max(len(rows), 1)))
    axes = figure.add_subplot()
    ys = list(range(len(rows)))
    rates = [(r.satisfaction_rate or 0.0) * 100 for r in rows]
    bars = axes.barh(ys, rates, height=0.6, color=COLORS["closed"])
    axes.bar_label(
        bars,
        labels=[f"{v:.1f}%（差评 {r.bad_count}）" for v, r in zip(rates, rows, strict=True)],
        padding=3,
        fontsize=8,
    )
    axes.set_yticks(
        ys, [f"{_short(r.name)}（{r.hall_code}）" if r.hall_code else _short(r.name) for r in rows]
    )
    axes.set_xlim(0, 125)
    axes.set_xlabel("满意率（%）")
    axes.spines[["top", "right"]].set_visible(False)
    return _save(figure, fmt, name="ratings", title="各部门满意率")


def report_charts(data: MonthlyReportData, *, fmt: Format) -> list[Chart]:
    """The charts with something to show (a month without ratings has no ratings chart)."""
    import matplotlib

    font = cjk_font()
    charts = []
    with matplotlib.rc_context(
        {
            "font.family": [font],
            "font.size": 9,
            "axes.unicode_minus": False,
            "svg.fonttype": "none",  # the page's text stays text, drawn by the browser
            "svg.hashsalt": "hallwatch-report",
        }
    ):
        if data.volume.by_department:
            charts.append(_volume(data, fmt))
        if data.volume.total.open_at_end:
            charts.append(_lights(data, fmt))
        if any(r.satisfaction_rate is not None for r in data.ratings.by_department):
            charts.append(_ratings(data, fmt))
    return charts


__all__ = ["Chart", "ChartFontMissing", "cjk_font", "report_charts"]

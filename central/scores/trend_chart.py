"""The score pages' trend chart: the month score by day (line), the day's points (bars: bonuses green,
deductions red) and figures a recomputation replaced (grey crosses). matplotlib rendered to SVG on the
server and inlined as the ratings dashboard's chart is (`central.ratings.chart.inline_svg`): no
JavaScript, no Chinese text in the figure (the page gives title and legend), no inline styles."""

from __future__ import annotations

import calendar
import io
import logging
import math
from collections.abc import Sequence
from datetime import date

from central.ratings.chart import inline_svg
from central.scores.schemas import TrendPoint

logger = logging.getLogger(__name__)

LINE_COLOR = "#1b4f8a"
PLUS_COLOR = "#1e8e3e"
MINUS_COLOR = "#c5221f"
EARLIER_COLOR = "#80868b"
MAX_TICKS = 16


def month_days(month: str) -> list[date]:
    year, number = int(month[:4]), int(month[5:7])
    return [date(year, number, day) for day in range(1, calendar.monthrange(year, number)[1] + 1)]


def score_trend_svg(
    points: Sequence[TrendPoint],
    *,
    month: str,
    total: float,
    label: str,
    earlier: Sequence[tuple[date, float]] = (),
) -> str:
    """One x position per day of `month`; days not scored (yet) have no point."""
    import matplotlib
    from matplotlib.figure import Figure

    days = month_days(month)
    index = {day: x for x, day in enumerate(days)}
    shown = [p for p in points if p.day in index]
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "hallwatch-scores", "font.size": 9}):
        figure = Figure(figsize=(9, 2.8))
        axes = figure.add_subplot()
        bars = axes.twinx()
        xs = [index[p.day] for p in shown]
        bars.bar(
            xs,
            [p.day_points for p in shown],
            color=[PLUS_COLOR if p.day_points >= 0 else MINUS_COLOR for p in shown],
            width=0.6,
            alpha=0.45,
        )
        reach = max([abs(p.day_points) for p in shown] + [1.0])
        bars.set_ylim(-reach * 1.2, reach * 1.2)
        bars.axhline(0, color=EARLIER_COLOR, linewidth=0.5)
        if earlier:
            axes.scatter(
                [index[d] for d, _ in earlier if d in index],
                [score for d, score in earlier if d in index],
                marker="x",
                color=EARLIER_COLOR,
                zorder=3,
            )
        axes.plot(xs, [p.month_score for p in shown], color=LINE_COLOR, marker="o", markersize=3, zorder=4)
        values = [p.month_score for p in shown] + [score for _, score in earlier]
        low = max(0.0, math.floor((min(values, default=total) - 5) / 5) * 5)
        axes.set_ylim(low, total + max(1.0, total * 0.02))
        axes.set_zorder(bars.get_zorder() + 1)  # the line above the bars
        axes.patch.set_visible(False)
        axes.set_xlim(-0.6, len(days) - 0.4)
        step = max(1, -(-len(days) // MAX_TICKS))
        axes.set_xticks(list(range(len(days)))[::step], [d.strftime("%m-%d") for d in days][::step])
        for side in ("top",):
            axes.spines[side].set_visible(False)
            bars.spines[side].set_visible(False)
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return inline_svg(buffer.getvalue(), label=label)


__all__ = ["month_days", "score_trend_svg"]

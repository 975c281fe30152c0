"""The daily trend chart of the ratings dashboard: matplotlib, rendered to SVG on the server and
served inline in the page (no JavaScript library).

The figure carries no Chinese text (its labels are digits and dates): the page gives the title and
legend in HTML, so the chart does not depend on a CJK font being installed for matplotlib. Text is
kept as SVG text (`svg.fonttype: none`), so the browser draws it with the page's fonts.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from datetime import date, timedelta

from central.ratings.schemas import FigureRow

logger = logging.getLogger(__name__)

BAR_COLOR = "#9fb8d6"
LINE_COLOR = "#1b4f8a"
BAD_COLOR = "#c5221f"
MAX_TICKS = 12


@dataclass(frozen=True)
class DayPoint:
    day: date
    count: int
    bad: int
    rate: float | None  # satisfaction rate 0..1


def daily_points(rows: list[FigureRow], *, start: date, end: date) -> list[DayPoint]:
    """One point per day of the range; days without ratings count zero and have no rate."""
    by_day = {row.key: row for row in rows if row.key}
    points = []
    day = start
    while day <= end:
        row = by_day.get(day.isoformat())
        points.append(
            DayPoint(
                day,
                row.count if row else 0,
                row.bad_count if row else 0,
                row.satisfaction_rate if row else None,
            )
        )
        day += timedelta(days=1)
    return points


def trend_svg(points: list[DayPoint], *, label: str) -> str:
    """Bars: ratings per day (差评 in red at their foot); line: the satisfaction rate in percent."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "hallwatch-ratings", "font.size": 9}):
        figure = Figure(figsize=(9, 2.8))
        axes = figure.add_subplot()
        xs = list(range(len(points)))
        axes.bar(xs, [p.count for p in points], color=BAR_COLOR, width=0.8)
        axes.bar(xs, [p.bad for p in points], color=BAD_COLOR, width=0.8)
        axes.set_ylabel("n")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlim(-0.6, max(len(points) - 0.4, 0.6))
        step = max(1, -(-len(points) // MAX_TICKS))
        axes.set_xticks(xs[::step], [p.day.strftime("%m-%d") for p in points][::step])
        rate_axes = axes.twinx()
        rated = [(x, p.rate * 100) for x, p in zip(xs, points, strict=True) if p.rate is not None]
        if rated:
            rate_axes.plot(
                [x for x, _ in rated], [r for _, r in rated], color=LINE_COLOR, marker="o", markersize=3
            )
        rate_axes.set_ylim(0, 105)
        rate_axes.set_ylabel("%")
        for side in ("top",):
            axes.spines[side].set_visible(False)
            rate_axes.spines[side].set_visible(False)
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return inline_svg(buffer.getvalue(), label=label)


def inline_svg(svg: str, *, label: str) -> str:
    """The <svg> element alone, scaling to its container, labelled for screen readers (the monthly
    report's charts use it too)."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.DOTALL)
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 width="100%"', svg, count=1)
    svg = re.sub(r"\s*<style[^>]*>.*?</style>", "", svg, count=1, flags=re.DOTALL)
    svg = _STYLE_ATTRIBUTE.sub(_presentation_attributes, svg)
    safe = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    # matplotlib's <style> gave every shape these two; as attributes on <svg> they are inherited.
    root = f'<svg role="img" aria-label="{safe}" stroke-linejoin="round" stroke-linecap="butt"'
    return svg.replace("<svg", root, 1)


_STYLE_ATTRIBUTE = re.compile(r' style="([^"]*)"')


def _presentation_attributes(match: re.Match[str]) -> str:
    """`style="fill: #fff; stroke-width: 0.8"` as `fill="#fff" stroke-width="0.8"`: the page's
    Content-Security-Policy refuses inline styles, and SVG takes these properties as attributes."""
    pairs = (decl.split(":", 1) for decl in match.group(1).split(";") if ":" in decl)
    return "".join(f' {name.strip()}="{value.strip()}"' for name, value in pairs)


__all__ = ["DayPoint", "daily_points", "inline_svg", "trend_svg"]

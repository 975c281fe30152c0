"""The report's templates: one body (monthly_report_body.html) that the console page and the PDF both
include, the filters it formats figures with, and the charts it places.

The page renders through the app's environment (`TEMPLATES`, declared like every domain's); the PDF
is made outside any request (the CLI, the closed-month pass), so `pdf_html` renders through an
environment of its own built from the same folder and filters.
"""

from __future__ import annotations

import base64
import logging
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from central.reports.charts import Chart, report_charts
from central.reports.schemas import MonthlyReportData
from central.web.forms import day_text, shanghai_time
from central.web.templating import PageTemplates

logger = logging.getLogger(__name__)

FOLDER = Path(__file__).parent / "templates"
PDF_CSS = Path(__file__).parent / "pdf.css"
DASH = "—"


def percent(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.1f}%"


def hours(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f} 小时"


def score(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}"


def change(value: float | None) -> str:
    if value is None:
        return DASH
    return f"+{value:.2f}" if value > 0 else f"−{-value:.2f}" if value < 0 else "0.00"


FILTERS = {"report_pct": percent, "report_hours": hours, "report_score": score, "report_change": change}
TEMPLATES = PageTemplates(folder=FOLDER, filters=FILTERS)


def month_zh(month: str) -> str:
    return f"{int(month[:4])}年{int(month[5:7])}月"


def chart_context(charts: list[Chart]) -> dict[str, dict[str, str | None]]:
    """name -> title and inline SVG (page) or PNG data URI (PDF), as the body's `chart` macro takes."""
    found: dict[str, dict[str, str | None]] = {}
    for chart in charts:
        src = f"data:image/png;base64,{base64.b64encode(chart.png).decode()}" if chart.png else None
        found[chart.name] = {"title": chart.title, "svg": chart.svg, "src": src}
    return found


def page_context(data: MonthlyReportData) -> dict[str, Any]:
    """What the page's template needs besides the request's own (charts as inline SVG)."""
    return {
        "report": data,
        "month_zh": month_zh(data.month),
        "charts": chart_context(report_charts(data, fmt="svg")),
    }


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(FOLDER), autoescape=select_autoescape(["html"]))
    env.filters.update(FILTERS)
    env.filters.update({"day_text": day_text, "shanghai_time": shanghai_time})
    return env


def pdf_html(data: MonthlyReportData, *, generated_at: datetime, generated_by: str) -> str:
    """The PDF's HTML: the cover, then the page's body with the charts as PNG."""
    return (
        _environment()
        .get_template("monthly_report_pdf.html")
        .render(
            report=data,
            month_zh=month_zh(data.month),
            charts=chart_context(report_charts(data, fmt="png")),
            generated_at=generated_at,
            generated_by=generated_by,
        )
    )


__all__ = ["FILTERS", "PDF_CSS", "TEMPLATES", "chart_context", "month_zh", "page_context", "pdf_html"]

"""The monthly report as a PDF: the page's own template (`render.pdf_html`) laid out by WeasyPrint (an
HTML/CSS-to-PDF library on Debian's pango), with the charts as PNG and Noto Sans CJK from Debian's
fonts-noto-cjk. The figures are those of the `MonthlyReportData` given: the API's."""

from __future__ import annotations

import logging
from datetime import datetime

from central.reports.render import PDF_CSS, pdf_html
from central.reports.schemas import MonthlyReportData

logger = logging.getLogger(__name__)
# WeasyPrint logs each layout step at INFO: a line per step of every report in the server's log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


class PdfUnavailable(RuntimeError):
    """WeasyPrint (or the system libraries it loads) is missing."""


def report_pdf(data: MonthlyReportData, *, generated_at: datetime, generated_by: str) -> bytes:
    """The PDF's bytes."""
    try:
        from weasyprint import CSS, HTML
    except (ImportError, OSError) as exc:  # OSError: pango or its fonts cannot be loaded
        raise PdfUnavailable(
            f"the monthly report's PDF needs WeasyPrint and Debian's pango (pip install weasyprint): {exc}"
        ) from exc
    html = pdf_html(data, generated_at=generated_at, generated_by=generated_by)
    document = HTML(string=html, base_url=str(PDF_CSS.parent)).render(
        stylesheets=[CSS(filename=str(PDF_CSS))]
    )
    pdf: bytes = document.write_pdf()
    logger.info(
        "monthly report %s %s: %d pages, %d bytes", data.month, data.scope_code, len(document.pages), len(pdf)
    )
    return pdf


__all__ = ["PdfUnavailable", "report_pdf"]

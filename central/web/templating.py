"""The one Jinja2 environment every capability's pages render with, and the shared error page."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from central.access.csrf import csrf_input
from central.access.roles import ROLE_LABELS
from central.web.labels import TEMPLATE_HELPERS, PageError

logger = logging.getLogger(__name__)

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters.update(TEMPLATE_HELPERS)
templates.env.globals.update(TEMPLATE_HELPERS)
templates.env.globals["role_label"] = lambda role: ROLE_LABELS[role]
templates.env.globals["csrf_input"] = csrf_input  # the form token field of every POST form


def error_page(request: Request, error: PageError, *, nav: str = "cases") -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "error.html",
        {"nav": nav, "title": error.title, "message": error.message},
        status_code=error.status_code,
    )

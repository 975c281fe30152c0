"""The console's Jinja2 environment, built once per app from what each domain's pages declare,
and the shared error page.

No module changes an environment at import: a domain states its template folder, globals and
filters in a `PageTemplates`, and the app factory builds one environment from all of them
(`build_templates`), so two apps built in one process each get the same, fresh environment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from central.web.forms import PageError, day_text, shanghai_time

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageTemplates:
    """What one domain's pages bring to the console's environment: their template folder, and
    the names their templates (or the shared ones) call."""

    folder: Path | None = None
    globals: Mapping[str, Any] = field(default_factory=dict)
    filters: Mapping[str, Callable[..., Any]] = field(default_factory=dict)


# The shell: the layout (base.html), the error page, and the time formatting every page shows.
_TIME_HELPERS: dict[str, Callable[..., Any]] = {"shanghai_time": shanghai_time, "day_text": day_text}
SHELL = PageTemplates(
    folder=Path(__file__).parent / "templates", globals=_TIME_HELPERS, filters=_TIME_HELPERS
)


def _merge(into: dict[str, Any], names: Mapping[str, Any], *, what: str) -> None:
    for name, value in names.items():
        if name in into and into[name] is not value:
            raise ValueError(f"two page declarations define the template {what} {name!r}")
        into[name] = value


def build_templates(parts: Iterable[PageTemplates]) -> Jinja2Templates:
    """A fresh environment: every folder searched in order, every global and filter set once."""
    parts = list(parts)
    folders = [part.folder for part in parts if part.folder is not None]
    templates = Jinja2Templates(directory=folders)
    globals_: dict[str, Any] = {}
    filters: dict[str, Callable[..., Any]] = {}
    for part in parts:
        _merge(globals_, part.globals, what="global")
        _merge(filters, part.filters, what="filter")
    templates.env.globals.update(globals_)
    templates.env.filters.update(filters)
    return templates


def install_templates(app: FastAPI, parts: Iterable[PageTemplates]) -> None:
    app.state.templates = build_templates(parts)


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """`name` rendered with the environment of the app serving `request`."""
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, context, status_code=status_code, headers=headers)


def error_page(request: Request, error: PageError, *, nav: str = "cases") -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"nav": nav, "title": error.title, "message": error.message},
        status_code=error.status_code,
    )

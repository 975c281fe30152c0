"""Console pages (zh-CN), server-rendered with Jinja2."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter
from fastapi.templating import Jinja2Templates

logger = logging.getLogger(__name__)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)

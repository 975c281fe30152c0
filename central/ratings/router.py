"""Stub: filled in by the ratings capability."""

from __future__ import annotations

import logging

from fastapi import APIRouter

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=True)

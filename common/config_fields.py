"""Field types that every hall-side config section shares (the edge agent's and the displays')."""

from __future__ import annotations

import logging
from typing import Annotated

from pydantic import Field

logger = logging.getLogger(__name__)

# Codes travel in observation ids, URLs and logs: letters, digits and a few separators, no spaces.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
Code40 = Annotated[str, Field(min_length=1, max_length=40, pattern=CODE_PATTERN)]
# The name of an environment variable that holds a device key.
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"

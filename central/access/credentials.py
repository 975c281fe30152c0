"""Which credential a route takes, as the middleware in front of the body found it
(central/access/auth_first.py) and noted on the request for the CSRF check (central/access/csrf.py)."""

from __future__ import annotations

import logging
from enum import StrEnum

logger = logging.getLogger(__name__)

CREDENTIAL_STATE = "credential_kind"  # request.state attribute


class Credential(StrEnum):
    USER = "user"  # Authorization: Bearer, or the console's session cookie (the API)
    PAGE = "page"  # the console's session cookie only (console pages)
    DEVICE = "device"  # X-Device-Key
    PUBLIC = "public"  # none: sign-in

"""API shapes for login, tokens and users."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from central.access.roles import Role


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=1, max_length=200)
    role: Role
    scope: str = Field(min_length=1, max_length=60, description="region:CODE, hall:CODE or department:CODE")
    display_name: str | None = Field(default=None, max_length=60)


class UserPublic(BaseModel):
    username: str
    display_name: str | None
    role: Role
    scope_kind: str
    scope_code: str
    active: bool
    locked_until: datetime | None
    granted_by: str | None
    confirmed_at: datetime
    review_due: bool


class StaffLinkIn(BaseModel):
    """The member of staff an account belongs to (their own score page); null unlinks."""

    model_config = ConfigDict(extra="forbid")
    staff: str | None = Field(
        max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", description="A staff code."
    )


class StaffLinkOut(BaseModel):
    username: str
    staff: str | None

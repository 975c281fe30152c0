"""`hallwatch users …`: create a user from the shell (how the first administrator is made)."""

from __future__ import annotations

import typer

from central.access.jurisdiction import ScopeError
from central.access.passwords import WeakPasswordError
from central.access.roles import ROLE_LABELS, Role
from central.access.service import AccessError, create_user
from central.cli.common import cli_actor, cli_session, console, fail
from central.core.clock import system_clock

app = typer.Typer(help="Users and roles (SC-15).", no_args_is_help=True)


@app.command("create")
def users_create(
    username: str = typer.Option(..., help="Login name."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="At least 10 characters."
    ),
    role: Role = typer.Option(..., help="system_supervisor | inspector | sysadmin | post_user"),
    scope: str = typer.Option(
        ..., help="Jurisdiction: region:CODE, hall:CODE or department:CODE (or a bare code)."
    ),
    name: str | None = typer.Option(None, help="Display name (zh-CN)."),
) -> None:
    """Create a user. The shell is trusted: no grant check (use the API to grant downward)."""
    with cli_session() as (_settings, session):
        try:
            user = create_user(
                session,
                username=username,
                password=password,
                role=role,
                scope_code=scope,
                display_name=name,
                granted_by=None,
                now=system_clock(),
                actor=cli_actor(),
            )
        except (AccessError, ScopeError, WeakPasswordError) as exc:
            session.rollback()
            raise fail(str(exc)) from exc
        session.commit()
    console.print(f"已创建用户 {user.username}（{ROLE_LABELS[role]}，辖区 {scope}）")

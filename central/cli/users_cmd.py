"""`hallwatch users …`: create a user from the shell (how the first administrator is made).

The password never comes on the command line (the process list and shell history would show it):
it is typed at a prompt, twice, or read from a file (`--password-file`, `-` for standard input) or
from the environment variable HALLWATCH_NEW_PASSWORD, for scripts.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import typer

from central.access.passwords import WeakPasswordError
from central.access.roles import ROLE_LABELS, Role
from central.access.service import AccessError, create_user
from central.access.staff_link import link_staff, user_within
from central.cli.common import cli_actor, cli_session, console, fail
from central.core.clock import system_clock
from central.registry.jurisdiction import ScopeError, ScopeKind, jurisdiction_of

logger = logging.getLogger(__name__)
app = typer.Typer(help="Users and roles (SC-15).", no_args_is_help=True)

PASSWORD_ENV = "HALLWATCH_NEW_PASSWORD"


def read_new_password(password_file: Path | None) -> str:
    """The new user's password: from the file (`-`: stdin, first line), the environment, or typed
    twice at a hidden prompt when there is a terminal."""
    if password_file is not None:
        try:
            text = (
                sys.stdin.read() if str(password_file) == "-" else password_file.read_text(encoding="utf-8")
            )
        except OSError as exc:
            raise fail(f"cannot read the password file {password_file}: {exc.strerror}") from exc
        lines = text.splitlines()
        return lines[0] if lines else ""
    if (from_env := os.environ.get(PASSWORD_ENV)) is not None:
        return from_env
    if not sys.stdin.isatty():
        raise fail(
            f"no password given: type it at a terminal, or use --password-file FILE (- for stdin) or {PASSWORD_ENV}"
        )
    password: str = typer.prompt("Password 密码", hide_input=True, confirmation_prompt=True)
    return password


@app.command("create")
def users_create(
    username: str = typer.Option(..., help="Login name (unique ignoring case)."),
    role: Role = typer.Option(..., help="system_supervisor | inspector | sysadmin | post_user"),
    scope: str = typer.Option(
        ..., help="Jurisdiction: region:CODE, hall:CODE or department:CODE (or a bare code)."
    ),
    name: str | None = typer.Option(None, help="Display name (zh-CN)."),
    staff: str | None = typer.Option(
        None, help="The member of staff (code) the account belongs to: their own score page."
    ),
    password_file: Path | None = typer.Option(
        None,
        "--password-file",
        help=f"Read the password from this file's first line ('-': standard input); else {PASSWORD_ENV}, "
        "else a prompt. Never on the command line.",
    ),
) -> None:
    """Create a user. The shell is trusted: no grant check (use the API to grant downward)."""
    password = read_new_password(password_file)
    with cli_session() as (settings, session):
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
                min_password_length=settings.password_min_length,
            )
            if staff is not None:
                link_staff(session, user=user, staff_code=staff, actor=cli_actor(), now=system_clock())
        except (AccessError, ScopeError, WeakPasswordError) as exc:
            session.rollback()
            message = f"{exc}（{exc.zh}）" if isinstance(exc, WeakPasswordError) else str(exc)
            raise fail(message) from exc
        session.commit()
    console.print(f"已创建用户 {user.username}（{ROLE_LABELS[role]}，辖区 {scope}）")


@app.command("link-staff")
def users_link_staff(
    username: str = typer.Argument(..., help="The account."),
    staff: str | None = typer.Argument(None, help="The staff code; leave out with --clear."),
    clear: bool = typer.Option(False, "--clear", help="Unlink the account from its member of staff."),
) -> None:
    """Link an account to the member of staff it belongs to (their own score page, /console/scores/me).
    The member of staff must lie inside the account's jurisdiction."""
    if (staff is None) != clear:
        raise fail("give a staff code, or --clear to unlink (not both)")
    with cli_session() as (_settings, session):
        everything = jurisdiction_of(session, kind=ScopeKind.DEPLOYMENT, scope_id=0)
        try:
            user = user_within(session, username=username, within=everything)
            link_staff(session, user=user, staff_code=staff, actor=cli_actor(), now=system_clock())
        except AccessError as exc:
            session.rollback()
            raise fail(str(exc)) from exc
        session.commit()
    console.print(
        f"用户 {username} 已关联工作人员 {staff}" if staff else f"用户 {username} 已取消关联工作人员"
    )

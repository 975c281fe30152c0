"""Is the database reachable, and migrated to the revision this code expects?"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from sqlalchemy import Connection, Engine, make_url, text
from sqlalchemy.exc import DBAPIError

from central.core.db import make_engine
from central.core.migrate import current_revisions, head_revisions, known_revision
from central.ops.report import Check, Status

logger = logging.getLogger(__name__)

REACHABLE = "数据库连接 database reachable"
MIGRATED = "数据库迁移 database migrated"
CONNECT_TIMEOUT_SECONDS = 5


def shown_url(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def open_engine(url: str) -> tuple[Engine | None, Check]:
    """An engine on the deployment's database and the reachability check; no engine when unreachable.

    A SQLite file that does not exist is not created (connecting would create an empty one)."""
    parsed = make_url(url)
    hint = (
        "检查 HALLWATCH_DATABASE_URL、数据库服务是否在运行 (systemctl status postgresql)、网络与口令 — "
        "check the URL, that the server runs, the network and the password"
    )
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not path.is_file():
            summary = f"数据库文件不存在 no database file: {path}"
            return None, Check("database", REACHABLE, Status.ERROR, summary, hint=hint)
    else:
        parsed = parsed.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT_SECONDS)})
    engine = make_engine(parsed.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            version = _server_version(connection)
    except DBAPIError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        summary = f"无法连接 cannot connect to {shown_url(url)}: {reason}"
        return None, Check("database", REACHABLE, Status.ERROR, summary, hint=hint)
    return engine, Check("database", REACHABLE, Status.OK, f"{shown_url(url)} ({version})")


def _server_version(connection: Connection) -> str:
    if connection.dialect.name == "postgresql":
        return f"PostgreSQL {connection.scalar(text('SHOW server_version'))}"
    connection.execute(text("SELECT 1"))
    return f"SQLite {sqlite3.sqlite_version}"


def check_migrated(connection: Connection) -> Check:
    current, heads = current_revisions(connection), head_revisions()
    if current == heads:
        return Check("migrations", MIGRATED, Status.OK, f"已是最新 at head {', '.join(sorted(heads))}")
    newer = sorted(r for r in current if not known_revision(r))
    if newer:
        summary = f"数据库比本程序新 the database is newer than this code: at {', '.join(newer)}"
        hint = "升级本机的 hallwatch 到与数据库相同的版本 — upgrade hallwatch here to the release that migrated it"
        return Check("migrations", MIGRATED, Status.ERROR, summary, hint=hint)
    at = ", ".join(sorted(current)) or "从未迁移 never migrated"
    summary = f"数据库未迁移到最新 not at head: at {at}, code at {', '.join(sorted(heads))}"
    hint = (
        "先备份再迁移: hallwatch backup create DIR, 然后 hallwatch db upgrade — "
        "back up, then run hallwatch db upgrade (serve also migrates when it starts)"
    )
    return Check("migrations", MIGRATED, Status.ERROR, summary, hint=hint)

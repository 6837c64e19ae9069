"""Server-side sessions for the pages, kept in PostgreSQL, and the login limit.

Why PostgreSQL and not a FileStore under the data directory: web processes
are stateless and scale behind a load balancer (README, Production); a
session written by one process must be readable by the next one, and
logging out must end it everywhere at once. The database is already there
and already shared, so sessions live in `platform.sessions`.

- The cookie holds a random 256-bit id; the table holds its SHA-256 hash,
  as for API tokens: a copy of the table does not give usable sessions.
- A session lasts at most SESSION_SECONDS from login (absolute lifetime);
  it is written only when its data changes, so reading a page costs one
  indexed lookup and no write.
- At login the id is renewed (`renew_session`): a session id planted before
  login (session fixation) never becomes a logged-in session.
- Nothing is stored for visitors who are not logged in.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store
from litestar.types import Empty
from litestar.utils.dataclass import extract_dataclass_items

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.types import Message, ScopeSession

SESSION_COOKIE = "sroi_session"
SESSION_SECONDS = 12 * 3600
STORE_NAME = "page_sessions"

# Login attempts: at most LOGIN_ATTEMPTS per LOGIN_WINDOW_SECONDS per e-mail and client address.
LOGIN_ATTEMPTS = 10
LOGIN_WINDOW_SECONDS = 300

_RENEWED = "sroi.session.renewed_id"
_LOADED = "sroi.session.loaded"

DDL = """
CREATE SCHEMA IF NOT EXISTS platform;
CREATE TABLE IF NOT EXISTS platform.sessions (
    id_hash bytea PRIMARY KEY,
    data bytea NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expires_at_idx ON platform.sessions (expires_at);
CREATE TABLE IF NOT EXISTS platform.login_attempts (
    key_hash bytea PRIMARY KEY,
    attempts int NOT NULL,
    window_ends timestamptz NOT NULL
);
"""


async def migrate(pool: Any) -> None:
    """Create the tables (idempotent; concurrent web processes wait for each other)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(7204)")
        await conn.execute(DDL)


def _hash(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def _seconds(value: int | timedelta | None) -> int | None:
    if value is None:
        return None
    return int(value.total_seconds()) if isinstance(value, timedelta) else int(value)


class PostgresSessionStore(Store):
    """Litestar's Store interface on the read pool (asyncpg), for sessions."""

    def __init__(self, pool_of: Any):
        # The pool exists only once the app has started: look it up on use.
        self._pool_of = pool_of

    @property
    def pool(self) -> Any:
        return self._pool_of()

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        seconds = _seconds(expires_in) or SESSION_SECONDS
        await self.pool.execute(
            "INSERT INTO platform.sessions (id_hash, data, expires_at)"
            " VALUES ($1, $2, now() + make_interval(secs => $3))"
            " ON CONFLICT (id_hash) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at",
            _hash(key), data, seconds)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        row = await self.pool.fetchrow(
            "SELECT data FROM platform.sessions WHERE id_hash = $1 AND expires_at > now()", _hash(key))
        return bytes(row["data"]) if row else None

    async def delete(self, key: str) -> None:
        await self.pool.execute("DELETE FROM platform.sessions WHERE id_hash = $1", _hash(key))

    async def delete_all(self) -> None:
        await self.pool.execute("DELETE FROM platform.sessions")

    async def delete_expired(self) -> None:
        await self.pool.execute("DELETE FROM platform.sessions WHERE expires_at <= now()")

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        value = await self.pool.fetchval(
            "SELECT extract(epoch FROM expires_at - now())::int FROM platform.sessions"
            " WHERE id_hash = $1 AND expires_at > now()", _hash(key))
        return value


class RenewingSessionBackend(ServerSideSessionBackend):
    """Litestar's server-side sessions, plus: a new id at login, no row or
    cookie for visitors without a session, and no write when nothing changed."""

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        session_id = connection.cookies.get(self.config.key)
        if session_id and session_id != "null":
            store = self.config.get_store_from_app(connection.scope["app"])
            data = await self.get(session_id, store=store)
            if data is not None:
                connection.scope[_LOADED] = data  # type: ignore[typeddict-unknown-key]
                return self.deserialize_data(data)
        return {}

    async def store_in_message(self, scope_session: ScopeSession, message: Message,
                               connection: ASGIConnection) -> None:
        scope = connection.scope
        store = self.config.get_store_from_app(scope["app"])
        headers = MutableScopeHeaders.from_message(message)
        cookie_params = dict(extract_dataclass_items(self.config, exclude_none=True,
                                                     include=Cookie.__dict__.keys()))
        cookie_id = connection.cookies.get(self.config.key)
        if cookie_id == "null":
            cookie_id = None
        loaded: bytes | None = scope.get(_LOADED)  # type: ignore[assignment]
        renewed: str | None = scope.get(_RENEWED)  # type: ignore[assignment]

        if scope_session is Empty or not scope_session:
            if cookie_id:
                await self.delete(cookie_id, store=store)
                headers.add("Set-Cookie", Cookie(value="null", key=self.config.key, expires=0,
                                                 **cookie_params).to_header(header=""))
            return

        data = self.serialize_data(scope_session, scope)
        if renewed is None and cookie_id and loaded is not None and data == loaded:
            return  # unchanged
        # A cookie whose id has no stored session (expired, or made up by
        # someone else) is never adopted: a fresh id is issued instead.
        session_id = renewed or (cookie_id if loaded is not None else None) or self.generate_session_id()
        if cookie_id and cookie_id != session_id:
            await self.delete(cookie_id, store=store)
        await self.set(session_id=session_id, data=data, store=store)
        headers.add("Set-Cookie", Cookie(value=session_id, key=self.config.key,
                                         **cookie_params).to_header(header=""))


@dataclass
class PageSessionConfig(ServerSideSessionConfig):
    _backend_class = RenewingSessionBackend  # type: ignore[assignment]

    key: str = field(default=SESSION_COOKIE)
    max_age: int = field(default=SESSION_SECONDS)
    store: str = field(default=STORE_NAME)
    httponly: bool = field(default=True)
    samesite: Any = field(default="lax")


def renew_session(connection: ASGIConnection, data: dict[str, Any]) -> None:
    """Start a logged-in session under a new id (the old one, if any, is deleted)."""
    connection.scope[_RENEWED] = secrets.token_hex(32)  # type: ignore[typeddict-unknown-key]
    connection.set_session(data)


# -- login limit ----------------------------------------------------------------

HIT_SQL = """
INSERT INTO platform.login_attempts AS a (key_hash, attempts, window_ends)
VALUES ($1, 1, now() + make_interval(secs => $2))
ON CONFLICT (key_hash) DO UPDATE SET
  attempts = CASE WHEN a.window_ends <= now() THEN 1 ELSE a.attempts + 1 END,
  window_ends = CASE WHEN a.window_ends <= now() THEN EXCLUDED.window_ends ELSE a.window_ends END
RETURNING attempts
"""


def _attempt_key(email: str, client: str) -> bytes:
    return _hash(f"login:{email.strip().lower()}|{client}")


async def count_login_attempt(pool: Any, email: str, client: str) -> bool:
    """Count one attempt; False when this e-mail and address are over the limit."""
    attempts = await pool.fetchval(HIT_SQL, _attempt_key(email, client), LOGIN_WINDOW_SECONDS)
    return attempts <= LOGIN_ATTEMPTS


async def forget_login_attempts(pool: Any, email: str, client: str) -> None:
    await pool.execute("DELETE FROM platform.login_attempts WHERE key_hash = $1", _attempt_key(email, client))
    # Housekeeping on a path that is rare and not latency-critical.
    await pool.execute("DELETE FROM platform.login_attempts WHERE window_ends <= now()")
    await pool.execute("DELETE FROM platform.sessions WHERE expires_at <= now()")

"""Where the database is: the configured server, or an embedded one.

When DATABASE_URL is unset the project runs a real PostgreSQL itself, from the
`pgserver` wheel (PostgreSQL 16 binaries inside a PyPI package; it works as
root and needs nothing from the system), with its data under
`<data_dir>/pg`. The server keeps running between commands so that `make run`
and `make test` start fast the second time.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

log = logging.getLogger(__name__)

APP_DATABASE = "sroi"


# Array parameters as PostgreSQL's array literals, cast in the query
# (`%s::uuid[]`): psycopg dumps a Python list element by element in Python.
# Measured: an import batch's four arrays of 1,000 (import_rows) in 2.7 ms
# this way, 9.3 ms as lists.
def uuid_array(ids: Iterable[UUID | None]) -> str:
    # Each id as its 32 hex digits (PostgreSQL reads a uuid with or without
    # the hyphens): a third of the time of str() per id.
    return "{" + ",".join("NULL" if i is None else "%032x" % i.int for i in ids) + "}"


def text_array(values: Iterable[str]) -> str:
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def bytea_array(values: Iterable[bytes]) -> str:
    return "{" + ",".join('"\\\\x' + v.hex() + '"' for v in values) + "}"


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) the embedded server; returns a URL of its maintenance database."""
    import warnings

    # pgserver asks platformdirs for a runtime dir; without XDG_RUNTIME_DIR
    # (root shells, CI) that warns on every start although /tmp is fine.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver  # imported here: only needed without DATABASE_URL

    pgdata = data_dir / "pg"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    return server.get_uri()


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def database_name(url: str) -> str:
    return conninfo_to_dict(url).get("dbname") or "postgres"


def ensure_database_exists(url: str) -> None:
    """Create the URL's database if the server does not have it yet."""
    name = database_name(url)
    maintenance = with_database(url, "postgres")
    with psycopg.connect(maintenance, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not found:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except psycopg.errors.DuplicateDatabase:
                pass  # created by a concurrent process


def drop_database(url: str) -> None:
    name = database_name(url)
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def resolve_database_url(configured: str | None, data_dir: Path, dbname: str = APP_DATABASE) -> str:
    """DATABASE_URL as given, or the embedded server's `dbname` database (created if missing)."""
    if configured:
        return configured
    url = with_database(start_embedded_postgres(data_dir), dbname)
    ensure_database_exists(url)
    log.info("using embedded PostgreSQL under %s", data_dir / "pg")
    return url


def connection_kwargs(url: str) -> dict[str, str]:
    """psycopg-style keyword arguments (dbname, host, port, user, password) for a URL."""
    info = conninfo_to_dict(url)
    return {
        "dbname": str(info.get("dbname") or "postgres"),
        "host": str(info.get("host") or "127.0.0.1"),
        "port": str(info.get("port") or "5432"),
        "user": str(info.get("user") or "postgres"),
        "password": str(info.get("password") or ""),
    }
